/**
 * The cluster lease: a `coordination.k8s.io/v1` Lease in `kube-system` named `pve-k3s-<cluster>`,
 * used the way client-go's leader election uses one. It is created with `kubectl create`
 * (the API refuses a name that exists: AlreadyExists), renewed and taken over with `kubectl
 * replace` of the object read, keeping its `metadata.resourceVersion` (the API answers 409
 * Conflict when anyone wrote it since: a compare-and-swap), and released like client-go's
 * ReleaseOnCancel: replaced, under the same precondition, with an empty holder, so a release
 * never removes a lease someone else has just taken. The run record (src/operation/run-record.ts)
 * rides in one of its annotations.
 *
 * Writes go through the controller's sh as `printf '%s' <json> | kubectl ... -f -`, so they can
 * use a session; the object holds no secret.
 */
import { hostname, userInfo } from 'node:os';
import { PveK3sError, invariant } from '../domain/errors.js';
import { KUBECTL, type Kube } from '../kube/kube.js';
import { failureReason } from '../shell/reason.js';
import { parseJsonOutput } from '../kube/nodes.js';
import { quoteArg, quoteCommand } from '../shell/quote.js';
import type { RunResult } from '../shell/shell.js';
import { parseDuration } from '../inventory/duration.js';

export const LEASE_NAMESPACE = 'kube-system';
/** The annotation of the old lock (pve-k3s before the Lease), on the controller's Node. */
export const LEGACY_LOCK_ANNOTATION = 'pve-k3s.io/upgrade-lock';
/** @default 5 minutes: what another operator waits after a holder died without releasing. */
export const DEFAULT_LEASE_SECONDS = 300;
const TIMEOUT_MS = 30_000;

export function leaseName(cluster: string): string {
  return `pve-k3s-${cluster}`;
}

/** `$PVE_K3S_LEASE_DURATION` (seconds or 90s/5m/1h) over the default. */
export function leaseSecondsFrom(env: NodeJS.ProcessEnv): number {
  const v = env['PVE_K3S_LEASE_DURATION'];
  if (v === undefined || v === '') return DEFAULT_LEASE_SECONDS;
  const s = parseDuration(v);
  if (s === undefined)
    throw new LeaseError(`PVE_K3S_LEASE_DURATION: invalid duration "${v}"`, { hint: 'write seconds (90) or units: 90s, 5m, 1h' });
  return s;
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec: LeaseSpec;
}

/** A MicroTime (RFC 3339, microseconds, UTC) as the API stores it: `2026-01-02T03:04:05.123000Z`. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Who runs pve-k3s here: `user@host`, and the process. */
export interface Identity {
  user: string;
  host: string;
  pid: number;
}

/** The holder of a lease: an identity running one operation (run id). */
export interface Holder extends Identity {
  run: string;
  operation: string;
}

export function localIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  let user = env['USER'] ?? env['LOGNAME'];
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return { user, host: hostname(), pid: process.pid };
}

/** `ops@laptop pid 4242 run 20260102T030405Z-ab12cd upgrade` (spec.holderIdentity). */
export function formatHolder(h: Holder): string {
  return `${h.user}@${h.host} pid ${h.pid} run ${h.run} ${h.operation}`;
}

export function parseHolder(text: string | undefined): Holder | undefined {
  const m = /^(.+)@(\S+) pid (\d+) run (\S+) (.+)$/.exec(text ?? '');
  if (!m) return undefined;
  return { user: m[1]!, host: m[2]!, pid: Number(m[3]), run: m[4]!, operation: m[5]! };
}

/** The old annotation lock's value (pve-k3s before the Lease). */
export interface LegacyLock {
  holder: string;
  run: string;
  since: string;
  expires: string;
}

export function parseLegacyLock(text: unknown): LegacyLock | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as Partial<LegacyLock>;
    if (typeof v.holder === 'string' && typeof v.run === 'string' && typeof v.since === 'string' && typeof v.expires === 'string')
      return { holder: v.holder, run: v.run, since: v.since, expires: v.expires };
  } catch {
    // not one of ours
  }
  return undefined;
}

/** What a lease says at a given moment. */
export interface LeaseView {
  /** The object as read (undefined: none exists). */
  lease: LeaseObject | undefined;
  /** The holder identity as written (may be foreign: another tool's format). */
  holderIdentity: string | undefined;
  holder: Holder | undefined;
  /** When it expires unless renewed (ms), for a held lease. */
  expiresAt: number | undefined;
  renewedAt: number | undefined;
  acquiredAt: number | undefined;
  /** Held, and not expired at `now`. */
  live: boolean;
  /** Held, but its holder stopped renewing it longer ago than its duration. */
  expired: boolean;
}

export function viewLease(lease: LeaseObject | undefined, now: number): LeaseView {
  const spec = lease?.spec ?? {};
  const id = spec.holderIdentity === '' ? undefined : spec.holderIdentity;
  const renewedAt = spec.renewTime ? Date.parse(spec.renewTime) : spec.acquireTime ? Date.parse(spec.acquireTime) : undefined;
  const acquiredAt = spec.acquireTime ? Date.parse(spec.acquireTime) : undefined;
  const duration = spec.leaseDurationSeconds ?? 0;
  const expiresAt = id !== undefined && renewedAt !== undefined && !Number.isNaN(renewedAt) ? renewedAt + duration * 1000 : undefined;
  const held = id !== undefined;
  // A held lease without a readable renew time never expires by itself: it must be broken on purpose.
  const live = held && (expiresAt === undefined || now < expiresAt);
  return {
    lease,
    holderIdentity: id,
    holder: parseHolder(id),
    expiresAt,
    renewedAt: renewedAt !== undefined && !Number.isNaN(renewedAt) ? renewedAt : undefined,
    acquiredAt: acquiredAt !== undefined && !Number.isNaN(acquiredAt) ? acquiredAt : undefined,
    live,
    expired: held && !live,
  };
}

/** The lease could not be read or written (API down, RBAC, not a Lease). */
export class LeaseError extends PveK3sError {
  readonly exitCode = 1 as const;
}

export type WriteOutcome = { ok: true; lease: LeaseObject } | { ok: false; why: 'exists' | 'conflict' };

/**
 * The Lease of one cluster, through the controller's kubectl: read, create, replace. It
 * decides nothing: the guard (src/operation/guard.ts) does.
 */
export class ClusterLease {
  readonly name: string;
  readonly namespace = LEASE_NAMESPACE;

  constructor(
    readonly kube: Kube,
    cluster: string,
  ) {
    this.name = leaseName(cluster);
  }

  get where(): string {
    return `${this.namespace}/${this.name}`;
  }

  /** The Lease, or undefined when none exists. Throws LeaseError when the API does not answer. */
  async read(signal?: AbortSignal): Promise<LeaseObject | undefined> {
    const r = await this.kube.kubectl(['get', 'lease', this.name, '-n', this.namespace, '-o', 'json'], {
      timeoutMs: TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    return this.parseRead(r);
  }

  /** Reads the Lease and the controller's Node (for an old annotation lock) in one round trip. */
  async readWithLegacy(signal?: AbortSignal): Promise<{ lease: LeaseObject | undefined; legacy: LegacyLock | undefined }> {
    const [l, n] = await this.kube.batch(
      [
        ['get', 'lease', this.name, '-n', this.namespace, '-o', 'json'],
        ['get', 'node', this.kube.controllerName, '-o', 'json'],
      ],
      { timeoutMs: TIMEOUT_MS, ...(signal ? { signal } : {}) },
    );
    const lease = this.parseRead(l!);
    let legacy: LegacyLock | undefined;
    if (n && n.code !== 0) throw this.kube.error(['get', 'node', this.kube.controllerName, '-o', 'json'], n);
    if (n) {
      try {
        const doc = parseJsonOutput(n.stdout) as { metadata?: { annotations?: Record<string, unknown> } };
        legacy = parseLegacyLock(doc.metadata?.annotations?.[LEGACY_LOCK_ANNOTATION]);
      } catch {
        legacy = undefined;
      }
    }
    return { lease, legacy };
  }

  private parseRead(r: RunResult): LeaseObject | undefined {
    const text = `${r.stdout}\n${r.stderr}`;
    if (r.code !== 0) {
      if (/\(NotFound\)/.test(text) && text.includes(`"${this.name}"`)) return undefined;
      throw this.kube.error(['get', 'lease', this.name, '-n', this.namespace, '-o', 'json'], r);
    }
    try {
      return asLease(parseJsonOutput(r.stdout));
    } catch (e) {
      throw new LeaseError(`cannot read the cluster lease ${this.where}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** `kubectl create`: fails with `exists` when someone created it first. */
  create(obj: LeaseObject, signal?: AbortSignal): Promise<WriteOutcome> {
    const { resourceVersion: _drop, ...metadata } = obj.metadata;
    void _drop;
    return this.write('create', { ...obj, metadata }, signal);
  }

  /** `kubectl replace` of an object carrying the resourceVersion read: `conflict` when it changed since. */
  replace(obj: LeaseObject, signal?: AbortSignal): Promise<WriteOutcome> {
    invariant(obj.metadata.resourceVersion, 'a lease replace must carry the resourceVersion read');
    return this.write('replace', obj, signal);
  }

  private async write(verb: 'create' | 'replace', obj: LeaseObject, signal?: AbortSignal): Promise<WriteOutcome> {
    const json = JSON.stringify(obj);
    const script = `printf '%s' ${quoteArg(json)} | ${quoteCommand([KUBECTL, verb, '-f', '-', '-o', 'json'])}\n`;
    const r = await this.kube.pct.execScript(this.kube.controllerVmid, script, { timeoutMs: TIMEOUT_MS, ...(signal ? { signal } : {}) });
    if (r.code === 0) {
      try {
        return { ok: true, lease: asLease(parseJsonOutput(r.stdout)) };
      } catch (e) {
        throw new LeaseError(`the cluster lease ${this.where} was written but its answer is unreadable: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    const text = `${r.stdout}\n${r.stderr}`;
    if (verb === 'create' && /\(AlreadyExists\)/.test(text)) return { ok: false, why: 'exists' };
    if (verb === 'replace' && /\(Conflict\)/.test(text)) return { ok: false, why: 'conflict' };
    throw this.failure(verb === 'create' ? 'create' : 'write', r);
  }

  private failure(what: 'read' | 'create' | 'write', r: RunResult): LeaseError {
    return new LeaseError(
      `cannot ${what} the cluster lease ${this.where} with kubectl on ${this.kube.controllerName}: ${failureReason(r, { singleLine: true })}`,
      {
        hint: `pve-k3s holds the cluster with this lease while it changes it; check that k3s runs on ${this.kube.controllerName} (pve-k3s status)`,
        detail: `${r.stdout}${r.stderr}`,
      },
    );
  }

  /** Removes the old annotation lock from the controller's Node (after the lease is ours). */
  async removeLegacy(signal?: AbortSignal): Promise<RunResult> {
    return this.kube.annotate(
      this.kube.controllerName,
      { key: LEGACY_LOCK_ANNOTATION, value: undefined },
      {
        timeoutMs: TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      },
    );
  }
}

function asLease(doc: unknown): LeaseObject {
  const d = doc as Partial<LeaseObject> | null;
  if (!d || d.kind !== 'Lease' || typeof d.metadata?.name !== 'string')
    throw new LeaseError('kubectl answered with something that is not a Lease');
  return { ...(d as LeaseObject), spec: d.spec ?? {} };
}

/** A new Lease object (no resourceVersion: for create). */
export function newLease(cluster: string, spec: LeaseSpec, annotations: Record<string, string>): LeaseObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: leaseName(cluster),
      namespace: LEASE_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'pve-k3s' },
      annotations,
    },
    spec,
  };
}

/** The object read with a new spec and our annotations over its own (resourceVersion kept: for replace). */
export function nextLease(read: LeaseObject, spec: LeaseSpec, annotations: Record<string, string>): LeaseObject {
  const { managedFields: _m, ...metadata } = read.metadata;
  void _m;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...metadata, annotations: { ...(read.metadata.annotations ?? {}), ...annotations } },
    spec,
  };
}
