/**
 * k3s versions: `v1.31.2+k3s1`, release candidates `v1.32.0-rc1+k3s1`.
 * Ordered by major, minor, patch, then pre-release (rc < final), then the k3s revision.
 * semver ignores build metadata (`+k3s2`), so it cannot be used here.
 */
export interface K3sVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Release-candidate number, or undefined for a final release. */
  readonly rc: number | undefined;
  /** The k3s revision: the N of `+k3sN`. */
  readonly k3s: number;
  /** The original text, e.g. `v1.31.2+k3s1`. */
  readonly raw: string;
}

/** The only shape accepted from any remote source (channel server, k3s --version, kubelet). */
export const K3S_VERSION_RE = /^v(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?\+k3s(\d+)$/;

const MAX_PART = 100_000;

/** Parses a k3s version; returns undefined for anything that is not exactly one. */
export function tryParseVersion(text: string): K3sVersion | undefined {
  const m = K3S_VERSION_RE.exec(text);
  if (!m) return undefined;
  const [major, minor, patch, rc, k3s] = [m[1], m[2], m[3], m[4], m[5]].map((s) => (s === undefined ? undefined : Number(s)));
  if (major === undefined || minor === undefined || patch === undefined || k3s === undefined) return undefined;
  if ([major, minor, patch, k3s, rc ?? 0].some((n) => !Number.isSafeInteger(n) || n > MAX_PART)) return undefined;
  return { major, minor, patch, rc, k3s, raw: text };
}

/** Parses a k3s version or throws a TypeError naming where the text came from. */
export function parseVersion(text: string, source = 'version'): K3sVersion {
  const v = tryParseVersion(text);
  if (!v) throw new TypeError(`${source}: ${JSON.stringify(truncate(text))} is not a k3s version (expected e.g. v1.31.2+k3s1)`);
  return v;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Total order: negative if a < b, 0 if equal, positive if a > b. */
export function compareVersions(a: K3sVersion, b: K3sVersion): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    // A final release (rc undefined) ranks above every release candidate of the same patch.
    (a.rc ?? Number.MAX_SAFE_INTEGER) - (b.rc ?? Number.MAX_SAFE_INTEGER) ||
    a.k3s - b.k3s
  );
}

export function versionsEqual(a: K3sVersion, b: K3sVersion): boolean {
  return compareVersions(a, b) === 0;
}

/** `v1.31` — the name of the per-minor release channel. */
export function minorChannel(v: Pick<K3sVersion, 'major' | 'minor'>): string {
  return `v${v.major}.${v.minor}`;
}

/** Minor-version distance b - a (only meaningful within one major). */
export function minorDelta(a: K3sVersion, b: K3sVersion): number {
  return (b.major - a.major) * 1000 + (b.minor - a.minor);
}

/**
 * Parses the output of `k3s --version`: the first line is
 * `k3s version v1.30.4+k3s1 (98262b5d)`, the second `go version go1.22.5`.
 */
export function parseK3sVersionOutput(output: string): K3sVersion | undefined {
  const first = output.split('\n', 1)[0] ?? '';
  const m = /^k3s version (v\S+)(?: \([0-9a-f]+\))?\s*$/.exec(first);
  return m?.[1] === undefined ? undefined : tryParseVersion(m[1]);
}

/** A version as a Proxmox snapshot name part: `v1.31.2+k3s1` -> `v1-31-2-k3s1`. */
export function versionSlug(v: K3sVersion): string {
  return v.raw.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
}
