/**
 * Air-gapped installs: a directory ON EACH PROXMOX HOST (pct push reads the host's files)
 * holding the k3s binary, the images tarball (`k3s-airgap-images-<arch>.tar[.zst|.gz]`) and
 * the install script (`install.sh`). They are pushed into the container, checked by sha256
 * on both sides (pct push may exit 0 when it failed), and the installer runs from the pushed
 * copy with INSTALL_K3S_SKIP_DOWNLOAD=true.
 */
import { RunError, UsageError } from '../domain/errors.js';
import { failureReason } from '../shell/reason.js';
import type { Pct } from '../proxmox/pct.js';
import type { NodeSpec } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';

export interface AirgapBundle {
  /** The directory on the Proxmox hosts. */
  dir: string;
  /** The images tarball's file name in it. */
  images: string;
}

export const IMAGES_DIR = '/var/lib/rancher/k3s/agent/images';
export const STAGE_DIR = '/root/pve-k3s-airgap';
const IMAGES_RE = /^k3s-airgap-images-[a-z0-9]+\.tar(\.zst|\.gz)?$/;

/** Checks the bundle on every host that will receive it; the images file name is found there. */
export async function checkAirgap(dir: string, hosts: ReadonlyMap<string, Shell>, signal?: AbortSignal): Promise<AirgapBundle> {
  if (!dir.startsWith('/'))
    throw new UsageError(`--airgap ${dir}: give the absolute path of the directory on the Proxmox host(s)`, {
      hint: 'copy the bundle to each host first, e.g. scp -r k3s-airgap root@pve1:/var/lib/vz/k3s-airgap',
    });
  let images: string | undefined;
  for (const [name, shell] of hosts) {
    const r = await shell.run(['ls', dir], { timeoutMs: 60_000, ...(signal ? { signal } : {}) });
    const files =
      r.code === 0
        ? r.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
        : [];
    const img = files.find((f) => IMAGES_RE.test(f));
    const missing = [
      files.includes('k3s') ? undefined : 'k3s',
      img ? undefined : 'k3s-airgap-images-<arch>.tar.zst',
      files.includes('install.sh') ? undefined : 'install.sh',
    ].filter((x) => x !== undefined);
    if (r.code !== 0 || missing.length > 0) {
      throw new UsageError(
        `--airgap ${dir} on ${name}: ${r.code !== 0 ? `cannot list it (${failureReason(r)})` : `missing ${missing.join(', ')}`}`,
        {
          hint: `put the k3s binary, the images tarball and install.sh of one release in ${dir} on every Proxmox host (pct push reads the host's files)`,
        },
      );
    }
    images ??= img;
  }
  if (images === undefined) throw new UsageError('--airgap: no host to check');
  return { dir, images };
}

/** Pushes the bundle into a container and checks it; returns the install script URL to use. */
export async function pushAirgap(
  p: Pct,
  node: NodeSpec,
  { bundle: b, log, signal }: { bundle: AirgapBundle; log: (line: string) => void; signal?: AbortSignal | undefined },
): Promise<string> {
  const o = { timeoutMs: 10 * 60_000, ...(signal ? { signal } : {}) };
  const files: Array<[string, string, string]> = [
    [`${b.dir}/k3s`, '/usr/local/bin/k3s', '0755'],
    [`${b.dir}/${b.images}`, `${IMAGES_DIR}/${b.images}`, '0644'],
    [`${b.dir}/install.sh`, `${STAGE_DIR}/install.sh`, '0755'],
  ];
  log(`${node.name}: pushing the air-gap bundle from ${b.dir} (k3s, ${b.images}, install.sh)`);
  const mk = await p.exec(node.vmid, ['mkdir', '-p', IMAGES_DIR, STAGE_DIR, '/usr/local/bin'], o);
  if (mk.code !== 0) throw new RunError(`${node.name}: cannot create ${IMAGES_DIR}: ${failureReason(mk)}`, { node: node.name });
  for (const [src, dst, perms] of files) {
    const r = await p.shell.run(['pct', 'push', String(node.vmid), src, dst, '--perms', perms], o);
    if (r.code !== 0)
      throw new RunError(`${node.name}: pct push ${src} failed: ${failureReason(r)}`, {
        node: node.name,
        hint: `check ${src} on ${node.host}`,
      });
  }
  const host = await p.shell.run(['sha256sum', ...files.map(([src]) => src)], o);
  const ct = await p.exec(node.vmid, ['sha256sum', ...files.map(([, dst]) => dst)], o);
  // `<sum>  <path>` lines; a file that is missing has no line (its error goes to stderr).
  const sums = (text: string) =>
    new Map(
      text
        .split('\n')
        .map((l) => /^([0-9a-f]{64}) [ *](.+)$/.exec(l))
        .filter((m) => m !== null)
        .map((m) => [m[2] ?? '', m[1] ?? '']),
    );
  const a = sums(host.stdout);
  const c = sums(ct.stdout);
  const bad = files.filter(([src, dst]) => a.get(src) === undefined || a.get(src) !== c.get(dst)).map(([, dst]) => dst);
  if (host.code !== 0 || bad.length > 0) {
    throw new RunError(
      `${node.name}: the air-gap files did not arrive intact (pct push): ${bad.length > 0 ? bad.join(', ') : failureReason(ct.code !== 0 ? ct : host)}`,
      {
        node: node.name,
        hint: `pct push needs a running container and an existing target directory; check free space in CT ${node.vmid}, then run install again`,
      },
    );
  }
  return `file://${STAGE_DIR}/install.sh`;
}
