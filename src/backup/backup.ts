/**
 * `backup`: the k3s token and datastore of the cluster's servers, pulled onto this machine.
 * Each server is read with ONE `pct exec <vmid> -- sh -s` whose script makes a consistent copy
 * (`sqlite3 .backup`, or `k3s etcd-snapshot save`) and writes the files base64-encoded on
 * stdout with the container's own sha256sum: the token never touches argv, a terminal or a
 * log, and the copy is checked end to end. Optionally vzdump backs up the containers.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { failureReason } from '../shell/reason.js';
import { Pct } from '../proxmox/pct.js';
import { RunError, UsageError, invariant } from '../domain/errors.js';
import { quoteArg } from '../shell/quote.js';
import type { RetentionPolicy } from './retention.js';
import { copyBackup, type CopyResult } from './copy.js';
import {
  backupSize,
  recordRun,
  createBackupDir,
  pruneBackups,
  sha256,
  stamp,
  writeBackupFile,
  writeManifest,
  BACKUP_API_VERSION,
  MANIFEST_VERSION,
  type BackupFile,
  type BackupManifest,
  type Datastore,
  type VzdumpRecord,
} from './store.js';

export const K3S_BIN = '/usr/local/bin/k3s';
export const SERVER_DIR = '/var/lib/rancher/k3s/server';
export const TOKEN_FILE = `${SERVER_DIR}/token`;
export const STATE_DB = `${SERVER_DIR}/db/state.db`;
export const SNAPSHOT_DIR = `${SERVER_DIR}/db/snapshots`;
export const STAGING_DIR = `${SERVER_DIR}/pve-k3s-backup`;

export interface BackupOptions {
  /** Root directory for backups (a dated directory is created inside). */
  root: string;
  /** Keep this many backups of the cluster (older ones are removed), or a tiered policy. @default unlimited */
  keep?: number | RetentionPolicy;
  /**
   * Embedded etcd: pull the newest snapshot k3s took on its own schedule
   * (`etcd-snapshot-schedule-cron`) instead of taking one. @default false
   */
  latestSnapshot?: boolean;
  /** Off-host copies of the finished backup: local directories or rsync/SSH destinations (`host:/path`). */
  copyTo?: string[];
  /** Without the sqlite3 CLI in the container, copy state.db with k3s stopped for a moment. @default false */
  offline?: boolean;
  /** Also back up every node's container with vzdump. */
  vzdump?: { mode: 'snapshot' | 'suspend' | 'stop'; storage?: string; prune?: string };
  /** Progress lines (never file contents). */
  log?: (line: string) => void;
  now?: () => Date;
  signal?: AbortSignal;
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
  pruned: string[];
  copies: CopyResult[];
}

/** The server a backup reads (the controller when it is a server) and the list of servers. */
export function backupSource(inv: Inventory): { source: NodeSpec; servers: NodeSpec[] } {
  const servers = inv.nodes.filter((n) => n.role === 'server');
  const source = servers.find((n) => n.name === inv.controller) ?? servers[0];
  if (!source) throw new UsageError('the inventory has no server node to back up', { hint: 'mark the k3s server(s) with `role: server`' });
  return { source, servers };
}

interface Detected {
  datastore: Datastore | undefined;
  sqlite3: boolean;
  version: string | null;
}

async function detect(pct: Pct, n: NodeSpec, signal?: AbortSignal): Promise<Detected> {
  const script = [
    `test -d ${SERVER_DIR}/db/etcd && echo datastore=etcd`,
    `test -e ${STATE_DB} && echo datastore=sqlite`,
    'command -v sqlite3 >/dev/null 2>&1 && echo sqlite3=yes',
    `${K3S_BIN} --version 2>/dev/null | head -n 1`,
    'true',
  ].join('\n');
  const r = await pct.execScript(n.vmid, script, { signal, timeoutMs: 60_000 });
  if (r.code !== 0)
    throw new RunError(`${n.name}: cannot read the k3s data directory (exit ${r.code}): ${failureReason(r)}`, {
      node: n.name,
      step: 'backup',
    });
  const lines = r.stdout.split('\n');
  const ds = lines.includes('datastore=etcd') ? 'etcd' : lines.includes('datastore=sqlite') ? 'sqlite' : undefined;
  const v = /k3s version (v\S+)/.exec(r.stdout)?.[1] ?? null;
  return { datastore: ds, sqlite3: lines.includes('sqlite3=yes'), version: v };
}

/** The pull script for one server: consistent copy, then each file framed and base64-encoded. */
export function pullScript({
  datastore,
  how,
  snapshotName,
  nonce,
}: {
  datastore: Datastore;
  how: 'sqlite3' | 'offline' | 'latest-snapshot';
  snapshotName: string;
  /** Marks the script's own lines in its output. */
  nonce: string;
}): string {
  const d = STAGING_DIR;
  const lines = [`rm -rf ${d}`, `mkdir -p ${d}`, `chmod 700 ${d}`];
  let data: string;
  if (datastore === 'etcd' && how === 'latest-snapshot') {
    // The newest snapshot k3s's own schedule took: etcd-snapshot-<node>-<unix time>[.zip], so
    // ls's name order is the time order (one node name per server, ten-digit times).
    lines.push('set -e', `f=$(ls ${SNAPSHOT_DIR} | grep '^etcd-snapshot-' | tail -n 1)`);
    lines.push(
      `test -n "$f" || echo "no scheduled etcd snapshot in ${SNAPSHOT_DIR} yet (etcd-snapshot-schedule-cron)" >&2`,
      'test -n "$f"',
    );
    data = `${SNAPSHOT_DIR}/$f`;
    lines.push(`echo "@@${nonce} name $f"`);
  } else if (datastore === 'etcd') {
    // Its log goes to stderr (shown only when it fails); set -e stops the script there.
    lines.push('set -e', `${K3S_BIN} etcd-snapshot save --name ${quoteArg(snapshotName)} >&2`);
    lines.push(`f=$(ls ${SNAPSHOT_DIR} | grep ${quoteArg(`^${snapshotName}-`)} | tail -n 1)`, 'test -n "$f"');
    data = `${SNAPSHOT_DIR}/$f`;
    lines.push(`echo "@@${nonce} name $f"`);
  } else if (how === 'sqlite3') {
    lines.push('set -e', `sqlite3 ${STATE_DB} ${quoteArg(`.backup ${d}/state.db`)}`);
    data = `${d}/state.db`;
  } else {
    // k3s stopped for the copy; started again whatever happened (no set -e before the start).
    lines.push('systemctl stop k3s', `cp ${STATE_DB} ${d}/state.db`, 'rc=$?', 'systemctl start k3s', 'test "$rc" = 0', 'set -e');
    data = `${d}/state.db`;
  }
  lines.push(`echo "@@${nonce} file token"`, `base64 -w 0 ${TOKEN_FILE}`, 'echo');
  lines.push(`echo "@@${nonce} file datastore"`, `base64 -w 0 "${data}"`, 'echo');
  lines.push(`echo "@@${nonce} sums"`, `sha256sum ${TOKEN_FILE} "${data}"`);
  lines.push(`rm -rf ${d}`);
  return lines.join('\n') + '\n';
}

interface Pulled {
  token: Buffer;
  data: Buffer;
  snapshotFile: string | undefined;
}

/** Parses the pull script's stdout; checks both files against the container's sha256sum. */
export function parsePull(stdout: string, nonce: string, node: string): Pulled {
  const lines = stdout.split('\n');
  const at = (tag: string) => lines.indexOf(`@@${nonce} ${tag}`);
  const ti = at('file token');
  const di = at('file datastore');
  const si = at('sums');
  if (ti < 0 || di < 0 || si < 0) throw new RunError(`${node}: the backup script's output is incomplete`, { node, step: 'backup' });
  const token = Buffer.from(lines[ti + 1] ?? '', 'base64');
  const data = Buffer.from(lines[di + 1] ?? '', 'base64');
  const sums = lines.slice(si + 1, si + 3).map((l) => l.split(/\s+/)[0] ?? '');
  const snapshotFile = lines.find((l) => l.startsWith(`@@${nonce} name `))?.slice(`@@${nonce} name `.length);
  if (sha256(token) !== sums[0] || sha256(data) !== sums[1]) {
    throw new RunError(`${node}: the pulled files do not match the container's sha256sum (transfer damaged)`, {
      node,
      step: 'backup',
      hint: 'run the backup again',
    });
  }
  if (token.length === 0) throw new RunError(`${node}: ${TOKEN_FILE} is empty`, { node, step: 'backup' });
  return { token, data, snapshotFile };
}

/** One backup run; its outcome (success or failure) is recorded beside the backups for status and metrics. */
export async function runBackup(inv: Inventory, shells: ReadonlyMap<string, Shell>, opts: BackupOptions): Promise<BackupResult> {
  const at = (opts.now ?? (() => new Date()))().toISOString();
  try {
    const r = await backupOnce(inv, shells, opts);
    const failed = [
      ...r.manifest.vzdump.filter((v) => !v.ok).map((v) => `vzdump of ${v.node}: ${v.message}`),
      ...r.copies.filter((c) => !c.ok).map((c) => `copy to ${c.destination}: ${c.message}`),
    ];
    recordRun(opts.root, inv.cluster, {
      at,
      ok: failed.length === 0,
      ...(failed.length ? { error: failed.join('; ') } : {}),
      dir: r.dir,
      sizeBytes: backupSize(r.manifest),
    });
    return r;
  } catch (e) {
    recordRun(opts.root, inv.cluster, { at, ok: false, error: e instanceof Error ? e.message : String(e) });
    throw e;
  }
}

async function backupOnce(inv: Inventory, shells: ReadonlyMap<string, Shell>, opts: BackupOptions): Promise<BackupResult> {
  const log = opts.log ?? (() => {});
  const now = (opts.now ?? (() => new Date()))();
  const { source, servers } = backupSource(inv);
  const pct = new Pct(shellFor(shells, source.host));
  const det = await detect(pct, source, opts.signal);
  if (!det.datastore)
    throw new RunError(`${source.name}: no k3s datastore found under ${SERVER_DIR}/db`, {
      node: source.name,
      step: 'backup',
      hint: 'is k3s a server on this node?',
    });
  if (opts.latestSnapshot && det.datastore !== 'etcd')
    throw new UsageError(`${source.name}: --latest-snapshot pulls a scheduled etcd snapshot, and this cluster's datastore is SQLite`, {
      hint: 'drop --latest-snapshot',
    });
  if (det.datastore === 'sqlite' && !det.sqlite3 && !opts.offline) {
    throw new RunError(
      `${source.name}: the sqlite3 command is not installed in the container, so a consistent copy of the live datastore cannot be made`,
      {
        node: source.name,
        step: 'backup',
        hint: `install it (pct exec ${source.vmid} -- apt-get install -y sqlite3), or pass --offline to copy the database with k3s stopped for a moment`,
      },
    );
  }
  // Where the backup goes is made before anything runs in the container (an offline copy stops k3s).
  const dir = createBackupDir(opts.root, inv.cluster, now);
  const nonce = randomBytes(6).toString('hex');
  const snapName = `pve-k3s-${stamp(now).toLowerCase()}`;
  log(
    `${source.name}: ${det.datastore === 'etcd' ? (opts.latestSnapshot ? 'pulling the newest scheduled etcd snapshot' : `k3s etcd-snapshot save --name ${snapName}`) : det.sqlite3 ? 'sqlite3 .backup' : 'copying state.db with k3s stopped'} and pulling the token`,
  );
  const script = pullScript({
    datastore: det.datastore,
    how: opts.latestSnapshot ? 'latest-snapshot' : det.sqlite3 ? 'sqlite3' : 'offline',
    snapshotName: snapName,
    nonce,
  });
  let pulled: Pulled;
  try {
    const r = await pct.execScript(source.vmid, script, { signal: opts.signal, timeoutMs: 30 * 60_000 });
    if (r.code !== 0) {
      throw new RunError(`${source.name}: the backup script failed (exit ${r.code}): ${failureReason({ ...r, stdout: '' })}`, {
        node: source.name,
        step: 'backup',
      });
    }
    pulled = parsePull(r.stdout, nonce, source.name);
  } catch (e) {
    await pct.exec(source.vmid, ['rm', '-rf', STAGING_DIR]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  try {
    const files: BackupFile[] = [writeBackupFile(dir, { path: `${source.name}/token`, kind: 'token', data: pulled.token })];
    files.push(
      det.datastore === 'etcd'
        ? writeBackupFile(dir, { path: `${source.name}/${pulled.snapshotFile ?? snapName}`, kind: 'etcd-snapshot', data: pulled.data })
        : writeBackupFile(dir, { path: `${source.name}/state.db`, kind: 'sqlite', data: pulled.data }),
    );
    const vz = opts.vzdump ? await runVzdump(inv, shells, { ...opts.vzdump, log, signal: opts.signal }) : [];
    const manifest: BackupManifest = {
      apiVersion: BACKUP_API_VERSION,
      kind: 'Backup',
      version: MANIFEST_VERSION,
      cluster: inv.cluster,
      createdAt: now.toISOString(),
      datastore: det.datastore,
      source: { node: source.name, vmid: source.vmid, host: source.host, k3sVersion: det.version },
      servers: servers.map((s) => ({ node: s.name, vmid: s.vmid, host: s.host })),
      files,
      vzdump: vz,
    };
    writeManifest(dir, manifest);
    const pruned = opts.keep !== undefined ? pruneBackups(opts.root, inv.cluster, opts.keep) : [];
    const copies: CopyResult[] = [];
    for (const dest of opts.copyTo ?? []) {
      log(`copying ${dir} to ${dest}`);
      const c = await copyBackup({ dir, manifest }, dest, {
        ...(opts.keep !== undefined ? { keep: opts.keep } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      log(`copy to ${dest}: ${c.ok ? `OK, checksums match (${c.target})` : `FAILED: ${c.message}`}`);
      copies.push(c);
    }
    return { dir, manifest, pruned, copies };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** vzdump of every node's container, one command per Proxmox host (hosts in parallel), followed to its end. */
export async function runVzdump(
  inv: Inventory,
  shells: ReadonlyMap<string, Shell>,
  o: { mode: string; storage?: string; prune?: string; log: (l: string) => void; signal?: AbortSignal | undefined },
): Promise<VzdumpRecord[]> {
  const { log, signal } = o;
  const hosts = [...new Set(inv.nodes.map((n) => n.host))];
  const per = await Promise.all(
    hosts.map(async (h) => {
      const nodes = inv.nodes.filter((n) => n.host === h);
      const argv = [
        'vzdump',
        ...nodes.map((n) => String(n.vmid)),
        '--mode',
        o.mode,
        '--compress',
        'zstd',
        ...(o.storage ? ['--storage', o.storage] : []),
        ...(o.prune ? ['--prune-backups', o.prune] : []),
      ];
      log(`${h}: vzdump ${nodes.map((n) => n.vmid).join(' ')} --mode ${o.mode}${o.storage ? ` --storage ${o.storage}` : ''}`);
      const r = await shellFor(shells, h).run(argv, { signal, timeoutMs: 12 * 3600_000 });
      const recs = parseVzdumpLog(
        `${r.stdout}\n${r.stderr}`,
        nodes.map((n) => ({ node: n.name, vmid: n.vmid, host: h })),
        r.code,
      );
      for (const x of recs)
        log(`${h}: vzdump of ${x.vmid} (${x.node}): ${x.ok ? `OK, ${x.archive ?? 'archive written'}` : `FAILED: ${x.message}`}`);
      return recs;
    }),
  );
  return per.flat();
}

/** Each container's result from vzdump's log ("Finished Backup of VM N", "ERROR: Backup of VM N failed - ..."). */
export function parseVzdumpLog(text: string, nodes: Array<{ node: string; vmid: number; host: string }>, code: number): VzdumpRecord[] {
  const lines = text.split('\n');
  return nodes.map((n) => {
    let current = false;
    let archive: string | null = null;
    let finished = false;
    let error: string | undefined;
    for (const l of lines) {
      if (new RegExp(`Starting Backup of VM ${n.vmid}\\b`).test(l)) current = true;
      else if (/Starting Backup of VM \d+/.test(l)) current = false;
      const a = /creating (?:vzdump )?archive '([^']+)'/.exec(l);
      if (current && a) archive = a[1] ?? null;
      if (new RegExp(`Finished Backup of VM ${n.vmid}\\b`).test(l)) finished = true;
      const e = new RegExp(`ERROR: Backup of VM ${n.vmid} failed - (.*)$`).exec(l);
      if (e) error = e[1];
    }
    if (finished && !error) return { ...n, ok: true, archive, message: 'OK' };
    const fallback = lines
      .map((l) => l.trim())
      .filter(Boolean)
      .filter((l) => !l.startsWith('INFO:'))
      .pop();
    return { ...n, ok: false, archive, message: error ?? fallback ?? `vzdump exited with status ${code}` };
  });
}

export function shellFor(shells: ReadonlyMap<string, Shell>, host: string): Shell {
  const s = shells.get(host);
  invariant(s, `no shell for host ${host}`);
  return s;
}
