/**
 * `restore`: puts a backup's datastore and token back. The plan is data (shown, confirmed by
 * the command), the backup is verified against its manifest before anything is touched.
 * SQLite: stop k3s, replace state.db (its -wal/-shm removed, the old files kept aside) and the
 * token, start. Etcd: stop every server, `k3s server --cluster-reset
 * --cluster-reset-restore-path=<snapshot>` on one, start it, then each other server drops its
 * old etcd member data (`db/`) and rejoins. Files travel on stdin, never in argv.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { failureReason } from '../shell/reason.js';
import { Pct } from '../proxmox/pct.js';
import { RunError } from '../domain/errors.js';
import { KUBECTL } from '../kube/kube.js';
import { readManifest, sha256, verifyBackup, type BackupFile, type BackupManifest } from './store.js';
import { K3S_BIN, SERVER_DIR, STATE_DB, TOKEN_FILE, shellFor } from './backup.js';

export const RESTORE_DIR = `${SERVER_DIR}/pve-k3s-restore`;

export interface RestoreStep {
  node: string;
  text: string;
}

export interface RestorePlan {
  dir: string;
  manifest: BackupManifest;
  /** The server the datastore is restored on. */
  target: NodeSpec;
  peers: NodeSpec[];
  steps: RestoreStep[];
}

/** Reads and verifies the backup, then says what a restore would do. Throws when the backup is damaged. */
export function planRestore(inv: Inventory, dir: string): RestorePlan {
  let manifest: BackupManifest;
  try {
    manifest = readManifest(dir);
  } catch (e) {
    throw new RunError(`cannot restore ${dir}: ${(e as Error).message}`, { step: 'restore' });
  }
  const problems = verifyBackup(dir, manifest);
  if (problems.length > 0) {
    throw new RunError(`refusing to restore ${dir}: the backup does not match its manifest`, {
      step: 'restore',
      hint: 'the backup is damaged or was changed; restore another one (pve-k3s keeps them under its state dir, newest first)',
      detail: problems.map((p) => `- ${p}`).join('\n'),
    });
  }
  if (manifest.cluster !== inv.cluster) {
    throw new RunError(`refusing to restore ${dir}: it is a backup of cluster "${manifest.cluster}", the inventory is "${inv.cluster}"`, {
      step: 'restore',
    });
  }
  const servers = inv.nodes.filter((n) => n.role === 'server');
  const target = servers.find((n) => n.name === manifest.source.node) ?? servers[0];
  if (!target) throw new RunError('the inventory has no server to restore on', { step: 'restore' });
  const peers = manifest.datastore === 'etcd' ? servers.filter((n) => n !== target) : [];
  const steps: RestoreStep[] = [];
  const when = `${manifest.createdAt} (k3s ${manifest.source.k3sVersion ?? 'unknown'})`;
  if (manifest.datastore === 'sqlite') {
    steps.push(
      { node: target.name, text: 'stop k3s (the Kubernetes API is down until the last step)' },
      {
        node: target.name,
        text: `replace ${STATE_DB} with the backup of ${when}; remove state.db-wal/-shm; keep the old files as *.pve-k3s-before-restore`,
      },
      { node: target.name, text: `replace ${TOKEN_FILE} (old one kept as token.pve-k3s-before-restore)` },
      { node: target.name, text: 'start k3s and wait until the API answers' },
    );
  } else {
    for (const s of [...peers, target]) steps.push({ node: s.name, text: 'stop k3s' });
    steps.push(
      { node: target.name, text: `copy the etcd snapshot of ${when} and the token into the container` },
      {
        node: target.name,
        text: "k3s server --cluster-reset --cluster-reset-restore-path=<snapshot> (etcd becomes a one-member cluster with the backup's data)",
      },
      { node: target.name, text: 'start k3s and wait until the API answers' },
    );
    for (const p of peers)
      steps.push({ node: p.name, text: `delete ${SERVER_DIR}/db (its old etcd member data), start k3s: it rejoins ${target.name}` });
  }
  return { dir, manifest, target, peers, steps };
}

export interface RestoreOptions {
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** How long to wait for the API after a start. @default 300000 */
  apiTimeoutMs?: number;
  /** Pause between API polls. @default 1000 */
  pollMs?: number;
}

/** Restores `plan` (its target node and servers name the hosts) through `shells`, a shell per Proxmox host. */
export async function runRestore(shells: ReadonlyMap<string, Shell>, plan: RestorePlan, opts: RestoreOptions = {}): Promise<void> {
  const log = opts.log ?? (() => {});
  const { manifest, target } = plan;
  const pct = (n: NodeSpec) => new Pct(shellFor(shells, n.host));
  const must = async (
    n: NodeSpec,
    what: string,
    { argv, stdin, timeoutMs = 600_000 }: { argv: string[]; stdin?: string; timeoutMs?: number },
  ) => {
    const r = await pct(n).shell.run(['pct', 'exec', String(n.vmid), '--', ...argv], {
      ...(stdin !== undefined ? { stdin } : {}),
      signal: opts.signal,
      timeoutMs,
    });
    if (r.code !== 0)
      throw new RunError(`${n.name}: ${what} failed (exit ${r.code}): ${failureReason(r)}`, {
        node: n.name,
        step: 'restore',
        hint: 'fix the cause and run the same restore again: every step can be repeated',
      });
    return r;
  };
  const token = manifest.files.find((f) => f.kind === 'token');
  const data = manifest.files.find((f) => f.kind !== 'token');
  if (!token || !data) throw new RunError('the backup lacks a token or a datastore', { step: 'restore' });
  /** Uploads backup file `file` to `dest` in `n`, checked against its checksum before and after. */
  const upload = async (n: NodeSpec, file: BackupFile, dest: string) => {
    const { path: rel, sha256: sum } = file;
    const bytes = readFileSync(join(plan.dir, rel));
    if (sha256(bytes) !== sum) throw new RunError(`${rel} changed since it was verified`, { node: n.name, step: 'restore' });
    await must(n, `upload of ${rel}`, {
      argv: ['sh', '-c', 'base64 -d > "$1" && chmod 600 "$1"', 'sh', dest],
      stdin: bytes.toString('base64'),
    });
    const r = await must(n, `checksum of ${dest}`, { argv: ['sha256sum', dest] });
    if ((r.stdout.split(/\s+/)[0] ?? '') !== sum)
      throw new RunError(`${n.name}: ${dest} does not match the backup after the upload`, { node: n.name, step: 'restore' });
  };
  const prepare = async (n: NodeSpec) =>
    must(n, 'preparing a private directory', {
      argv: ['sh', '-c', `rm -rf ${RESTORE_DIR} && mkdir -p ${RESTORE_DIR} && chmod 700 ${RESTORE_DIR}`],
    });

  if (manifest.datastore === 'sqlite') {
    await prepare(target);
    await upload(target, data, `${RESTORE_DIR}/state.db`);
    await upload(target, token, `${RESTORE_DIR}/token`);
    log(`${target.name}: stopping k3s`);
    await must(target, 'systemctl stop k3s', { argv: ['systemctl', 'stop', 'k3s'] });
    log(`${target.name}: replacing the datastore and the token`);
    await must(target, 'replacing the datastore', {
      argv: [
        'sh',
        '-c',
        [
          'set -e',
          `test -e ${STATE_DB} && cp ${STATE_DB} ${STATE_DB}.pve-k3s-before-restore || true`,
          `rm -f ${STATE_DB}-wal ${STATE_DB}-shm`,
          `mv ${RESTORE_DIR}/state.db ${STATE_DB}`,
          `test -e ${TOKEN_FILE} && cp ${TOKEN_FILE} ${TOKEN_FILE}.pve-k3s-before-restore || true`,
          `mv ${RESTORE_DIR}/token ${TOKEN_FILE}`,
          `chmod 600 ${STATE_DB} ${TOKEN_FILE}`,
          `rm -rf ${RESTORE_DIR}`,
        ].join('\n'),
      ],
    });
    log(`${target.name}: starting k3s`);
    await must(target, 'systemctl start k3s', { argv: ['systemctl', 'start', 'k3s'] });
    await waitApi(target, pct(target), opts);
    log(`${target.name}: the API answers`);
    return;
  }
  const snap = `${RESTORE_DIR}/${data.path.split('/').pop() ?? 'snapshot'}`;
  await prepare(target);
  await upload(target, data, snap);
  await upload(target, token, `${RESTORE_DIR}/token`);
  for (const s of [...plan.peers, target]) {
    log(`${s.name}: stopping k3s`);
    await must(s, 'systemctl stop k3s', { argv: ['systemctl', 'stop', 'k3s'] });
  }
  await must(target, 'replacing the token', {
    argv: [
      'sh',
      '-c',
      `set -e\ntest -e ${TOKEN_FILE} && cp ${TOKEN_FILE} ${TOKEN_FILE}.pve-k3s-before-restore || true\nmv ${RESTORE_DIR}/token ${TOKEN_FILE}\nchmod 600 ${TOKEN_FILE}`,
    ],
  });
  log(`${target.name}: k3s server --cluster-reset --cluster-reset-restore-path=${snap}`);
  await must(target, 'k3s server --cluster-reset', {
    argv: [K3S_BIN, 'server', '--cluster-reset', `--cluster-reset-restore-path=${snap}`],
    timeoutMs: 30 * 60_000,
  });
  log(`${target.name}: starting k3s`);
  await must(target, 'systemctl start k3s', { argv: ['systemctl', 'start', 'k3s'] });
  await waitApi(target, pct(target), opts);
  await must(target, 'cleaning up', { argv: ['rm', '-rf', RESTORE_DIR] });
  for (const p of plan.peers) {
    log(`${p.name}: removing its old etcd data and rejoining ${target.name}`);
    await must(p, `removing ${SERVER_DIR}/db`, { argv: ['rm', '-rf', `${SERVER_DIR}/db`] });
    await must(p, 'systemctl start k3s', { argv: ['systemctl', 'start', 'k3s'] });
  }
}

async function waitApi(n: NodeSpec, pct: Pct, opts: RestoreOptions): Promise<void> {
  const deadline = Date.now() + (opts.apiTimeoutMs ?? 300_000);
  for (;;) {
    const r = await pct.exec(n.vmid, [KUBECTL, 'get', '--raw', '/readyz'], { signal: opts.signal, timeoutMs: 30_000 });
    if (r.code === 0) return;
    if (Date.now() > deadline)
      throw new RunError(`${n.name}: the Kubernetes API did not answer after the restore`, {
        node: n.name,
        step: 'restore',
        hint: `look at the k3s log: pct exec ${n.vmid} -- journalctl -u k3s -n 50`,
      });
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 1000));
  }
}
