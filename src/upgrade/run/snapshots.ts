/**
 * Proxmox snapshots around an upgrade, and the single-server datastore backup.
 * - `pre-k3s-<version slug>`: taken before a node's upgrade when upgrade.snapshot is on.
 * - Support is probed up front (a throw-away snapshot made and deleted) so storage without
 *   snapshots is reported before anything changes, not halfway.
 * - Never for members of an embedded-etcd cluster: rolling back one member corrupts etcd.
 */
import { RunError } from '../../domain/errors.js';
import { parseVersion, versionSlug } from '../../domain/version.js';
import type { Inventory, NodeSpec } from '../../inventory/types.js';
import { failureReason } from '../../shell/reason.js';
import { lastLine } from '../../domain/text.js';
import type { Pct } from '../../proxmox/pct.js';
import { buildBatch, parseBatch } from '../../proxmox/batch.js';

export const SNAPSHOT_PREFIX = 'pre-k3s-';
const PROBE = 'pve-k3s-probe';
export const UNSUPPORTED = 'snapshot feature is not available';

export function snapshotName(version: string): string {
  return SNAPSHOT_PREFIX + versionSlug(parseVersion(version));
}

/** Servers of a cluster with several servers run embedded etcd: never snapshot-restored one by one. */
export function isEtcdMember(inv: Inventory, node: string): boolean {
  const servers = inv.nodes.filter((n) => n.role === 'server');
  return servers.length > 1 && servers.some((s) => s.name === node);
}

/** Checks that every container can be snapshotted; returns one message per container that cannot. */
export async function probeSnapshots(nodes: NodeSpec[], pct: (host: string) => Pct, signal?: AbortSignal): Promise<string[]> {
  const problems = await Promise.all(
    nodes.map(async (n) => {
      const p = pct(n.host);
      const r = await p.shell.run(['pct', 'snapshot', String(n.vmid), PROBE, '--description', 'pve-k3s: snapshot support probe'], {
        signal,
        timeoutMs: 10 * 60_000,
      });
      if (r.code !== 0) {
        const msg = failureReason(r, { singleLine: true });
        if (/already used/.test(msg)) {
          await p.shell.run(['pct', 'delsnapshot', String(n.vmid), PROBE], { signal, timeoutMs: 10 * 60_000 });
          return undefined;
        }
        return `${n.name} (CT ${n.vmid} on ${n.host}): ${msg.includes(UNSUPPORTED) ? 'its storage does not support snapshots' : msg}`;
      }
      const d = await p.shell.run(['pct', 'delsnapshot', String(n.vmid), PROBE], { signal, timeoutMs: 10 * 60_000 });
      return d.code === 0
        ? undefined
        : `${n.name} (CT ${n.vmid} on ${n.host}): cannot delete the probe snapshot ${PROBE}: ${failureReason(d, { singleLine: true })}`;
    }),
  );
  return problems.filter((p): p is string => p !== undefined);
}

/** Where a snapshot or backup is taken: the node, its container, the step that takes it. */
export interface SnapshotTarget {
  node: string;
  vmid: number;
  /** The plan step id, for errors. */
  step: string;
  signal?: AbortSignal | undefined;
}

/** Takes `name` unless it exists (a resumed run). */
export async function takeSnapshot(p: Pct, o: SnapshotTarget & { name: string }): Promise<'taken' | 'exists'> {
  const { node, vmid, name, step, signal } = o;
  const r = await p.shell.run(['pct', 'snapshot', String(vmid), name, '--description', `pve-k3s: before upgrading ${node}`], {
    signal,
    timeoutMs: 10 * 60_000,
  });
  if (r.code === 0) return 'taken';
  if (/already used/.test(failureReason(r))) return 'exists';
  throw new RunError(`cannot snapshot ${node} (CT ${vmid} on ${p.host}) before its upgrade: ${failureReason(r)}`, {
    node,
    step,
    hint: failureReason(r).includes(UNSUPPORTED)
      ? 'its storage has no snapshot support: run without --snapshot (upgrade.snapshot: false), or move the container to ZFS, LVM-thin or Ceph storage'
      : `check the container (pct listsnapshot ${vmid} on ${p.host})`,
  });
}

export interface SnapshotEntry {
  name: string;
  /** `YYYY-MM-DD HH:MM:SS`, or '' when not shown. */
  time: string;
}

/** `pct listsnapshot`: a tree of "`-> name  time  description" rows; `current` is not a snapshot. */
export function parseListSnapshot(text: string): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*`->\s+(\S+)\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)?/.exec(line);
    if (!m || m[1] === 'current') continue;
    out.push({ name: m[1]!, time: m[2] ?? '' });
  }
  return out;
}

export async function listSnapshots(p: Pct, vmid: number, signal?: AbortSignal): Promise<SnapshotEntry[]> {
  const r = await p.shell.run(['pct', 'listsnapshot', String(vmid)], { signal, timeoutMs: 60_000 });
  return r.code === 0 ? parseListSnapshot(r.stdout) : [];
}

/** Deletes the oldest `pre-k3s-*` snapshots beyond `keep`; returns the names deleted. */
export async function pruneSnapshots(
  p: Pct,
  o: { vmid: number; keep: number; signal?: AbortSignal | undefined },
): Promise<{ deleted: string[]; failed: string[] }> {
  const { vmid, keep, signal } = o;
  const ours = (await listSnapshots(p, vmid, signal)).filter((s) => s.name.startsWith(SNAPSHOT_PREFIX));
  // Stable sort by time: the tree lists parents before children, so ties keep that order.
  const sorted = ours.map((s, i) => ({ ...s, i })).sort((a, b) => (a.time === b.time ? a.i - b.i : a.time < b.time ? -1 : 1));
  const old = sorted.slice(0, Math.max(0, sorted.length - keep));
  const deleted: string[] = [];
  const failed: string[] = [];
  for (const s of old) {
    const r = await p.shell.run(['pct', 'delsnapshot', String(vmid), s.name], { signal, timeoutMs: 10 * 60_000 });
    (r.code === 0 ? deleted : failed).push(s.name);
  }
  return { deleted, failed };
}

export const BACKUP_ROOT = '/var/lib/pve-k3s/backup';
const SERVER_DIR = '/var/lib/rancher/k3s/server';

/**
 * Single-server (SQLite) datastore backup inside the server's container, before its upgrade:
 * the token (without it a datastore backup is useless) and db/state.db with its -wal/-shm,
 * copied with k3s stopped for a consistent copy (the upgrade restarts it anyway), into
 * /var/lib/pve-k3s/backup/pre-k3s-<slug>/ (0700, files 0600). Nothing secret leaves the node.
 */
export async function backupDatastore(p: Pct, o: SnapshotTarget & { version: string }): Promise<string> {
  const { node, vmid, version, step, signal } = o;
  const dir = `${BACKUP_ROOT}/${snapshotName(version)}`;
  const files = ['token', 'db/state.db', 'db/state.db-wal', 'db/state.db-shm'];
  const probe = buildBatch(files.map((f) => ({ argv: ['test', '-f', `${SERVER_DIR}/${f}`] })));
  const pr = await p.execScript(vmid, probe.script, { signal, timeoutMs: 60_000 });
  const present = parseBatch(pr, probe)
    .map((r, i) => (r.code === 0 ? files[i]! : undefined))
    .filter((f): f is string => f !== undefined);
  if (!present.includes('token')) {
    throw new RunError(`cannot back up the datastore of ${node}: ${SERVER_DIR}/token not found`, {
      node,
      step,
      hint: `check the server (pct exec ${vmid} -- ls ${SERVER_DIR} on ${p.host})`,
    });
  }
  const db = present.filter((f) => f.startsWith('db/'));
  const cmds: string[][] = [
    ['mkdir', '-p', dir],
    ['chmod', '700', BACKUP_ROOT, dir],
  ];
  if (db.length > 0) cmds.push(['systemctl', 'stop', 'k3s']);
  for (const f of present) cmds.push(['cp', `${SERVER_DIR}/${f}`, `${dir}/${f.replace('db/', '')}`]);
  if (db.length > 0) cmds.push(['systemctl', 'start', 'k3s']);
  cmds.push(['chmod', '600', ...present.map((f) => `${dir}/${f.replace('db/', '')}`)]);
  const batch = buildBatch(cmds.map((argv) => ({ argv })));
  const r = await p.execScript(vmid, batch.script, { signal, timeoutMs: 10 * 60_000 });
  const results = parseBatch(r, batch);
  const bad = results.findIndex((x) => x.code !== 0);
  if (bad >= 0) {
    throw new RunError(
      `the datastore backup of ${node} failed at \`${cmds[bad]!.join(' ')}\`: ${lastLine(results[bad]!.stdout).slice(0, 200)}`,
      {
        node,
        step,
        hint: `k3s is ${db.length > 0 ? 'maybe stopped' : 'untouched'}; check it (pct exec ${vmid} -- systemctl status k3s on ${p.host}) and run pve-k3s resume`,
      },
    );
  }
  return `${dir} (${present.map((f) => f.replace('db/', '')).join(', ')})`;
}
