/**
 * Backups on the user's machine: one directory per backup (`<cluster>-<UTC stamp>`, mode
 * 0700) holding the pulled files (0600), `manifest.json` (versioned) and `SHA256SUMS`
 * (`sha256sum -c` format). Listing, verification and retention live here; no remote I/O.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PveK3sError, fileError } from '../domain/errors.js';
import { applyRetention, hasPolicy, type RetentionPolicy } from './retention.js';

export const BACKUP_API_VERSION = 'pve-k3s.io/v1';
export const MANIFEST_VERSION = 1;

export type Datastore = 'sqlite' | 'etcd';

export interface BackupFile {
  /** Relative to the backup directory, e.g. `k3s-ctrl-1/token`. */
  path: string;
  kind: 'token' | 'sqlite' | 'etcd-snapshot';
  sha256: string;
  size: number;
}

export interface VzdumpRecord {
  node: string;
  vmid: number;
  host: string;
  ok: boolean;
  archive: string | null;
  message: string;
}

export interface BackupManifest {
  apiVersion: typeof BACKUP_API_VERSION;
  kind: 'Backup';
  version: typeof MANIFEST_VERSION;
  cluster: string;
  createdAt: string;
  datastore: Datastore;
  /** The server the datastore was taken from (restored there first). */
  source: { node: string; vmid: number; host: string; k3sVersion: string | null };
  servers: Array<{ node: string; vmid: number; host: string }>;
  files: BackupFile[];
  vzdump: VzdumpRecord[];
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `20261123T221500Z` */
export function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** A fresh private directory for a backup; never reuses an existing one. Throws FileError. */
export function createBackupDir(root: string, cluster: string, now: Date): string {
  let dir = join(root, `${cluster}-${stamp(now)}`);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    for (let i = 2; existsSync(dir); i++) dir = join(root, `${cluster}-${stamp(now)}-${i}`);
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    throw fileError(err, {
      action: 'create the backup directory',
      path: dir,
      hint: `backups go to ${root}: make it writable, or choose another place with --to DIR (or XDG_STATE_HOME)`,
    });
  }
  return dir;
}

/** Writes one pulled file (0600) and returns its manifest entry. */
export function writeBackupFile(
  dir: string,
  { path: rel, kind, data }: { path: string; kind: BackupFile['kind']; data: Buffer },
): BackupFile {
  const full = join(dir, rel);
  mkdirSync(join(full, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(full, data, { mode: 0o600 });
  chmodSync(full, 0o600);
  return { path: rel, kind, sha256: sha256(data), size: data.length };
}

export function writeManifest(dir: string, m: BackupManifest): void {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'SHA256SUMS'), m.files.map((f) => `${f.sha256}  ${f.path}\n`).join(''), { mode: 0o600 });
}

/** A backup directory that is not a readable pve-k3s backup. */
export class BackupError extends PveK3sError {
  readonly exitCode = 1 as const;
}

export function readManifest(dir: string): BackupManifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new BackupError(`${dir} is not a pve-k3s backup: manifest.json is missing`);
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BackupError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const o = m as Partial<BackupManifest>;
  if (o.apiVersion !== BACKUP_API_VERSION || o.kind !== 'Backup')
    throw new BackupError(`${file}: not a ${BACKUP_API_VERSION} Backup manifest`);
  if (o.version !== MANIFEST_VERSION)
    throw new BackupError(
      `${file}: manifest version ${String(o.version)} is not supported (this pve-k3s reads version ${MANIFEST_VERSION})`,
    );
  if (!Array.isArray(o.files) || (o.datastore !== 'sqlite' && o.datastore !== 'etcd') || !o.source)
    throw new BackupError(`${file}: incomplete manifest`);
  return o as BackupManifest;
}

/** Every file's sha256 against the manifest; returns the problems (empty = intact). */
export function verifyBackup(dir: string, m: BackupManifest): string[] {
  const problems: string[] = [];
  for (const f of m.files) {
    if (f.path.includes('..') || f.path.startsWith('/')) {
      problems.push(`${f.path}: path outside the backup`);
      continue;
    }
    const full = join(dir, f.path);
    if (!existsSync(full)) {
      problems.push(`${f.path}: missing`);
      continue;
    }
    const got = sha256(readFileSync(full));
    if (got !== f.sha256) problems.push(`${f.path}: sha256 ${got.slice(0, 12)}… does not match the manifest's ${f.sha256.slice(0, 12)}…`);
  }
  if (!m.files.some((f) => f.kind === 'token')) problems.push('no token in the backup');
  if (!m.files.some((f) => f.kind !== 'token')) problems.push('no datastore in the backup');
  return problems;
}

export interface BackupListing {
  dir: string;
  manifest: BackupManifest;
}

/** The cluster's backups under root, newest first (directories without a readable manifest are ignored). */
export function listBackups(root: string, cluster: string): BackupListing[] {
  if (!existsSync(root)) return [];
  const out: BackupListing[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      const manifest = readManifest(dir);
      if (manifest.cluster === cluster) out.push({ dir, manifest });
    } catch {
      // not ours
    }
  }
  return out.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt) || b.dir.localeCompare(a.dir));
}

/**
 * Applies the retention policy (a number = keep the newest N) to the cluster's backups under
 * root; returns the removed directories, oldest first. The newest backup is always kept.
 */
export function pruneBackups(root: string, cluster: string, keep: number | RetentionPolicy): string[] {
  const policy: RetentionPolicy = typeof keep === 'number' ? { last: Math.max(1, keep) } : keep;
  if (!hasPolicy(policy)) return [];
  const all = listBackups(root, cluster);
  const byId = new Map(all.map((b) => [b.dir, b]));
  const { remove } = applyRetention(
    all.map((b) => ({ id: b.dir, time: Date.parse(b.manifest.createdAt) })),
    policy,
  );
  for (const dir of remove) if (byId.has(dir)) rmSync(dir, { recursive: true, force: true });
  return remove;
}

/** The size of a backup: the sum of its files (manifest sizes). */
export function backupSize(m: BackupManifest): number {
  return m.files.reduce((n, f) => n + f.size, 0);
}

/** What the last `pve-k3s backup` run of a cluster did, kept beside its backups (`<cluster>.status.json`). */
export interface BackupRunRecord {
  apiVersion: typeof BACKUP_API_VERSION;
  kind: 'BackupStatus';
  cluster: string;
  lastRun: { at: string; ok: boolean; error?: string; dir?: string; sizeBytes?: number };
  lastSuccess?: { at: string; dir: string; sizeBytes: number };
}

export function runRecordFile(root: string, cluster: string): string {
  return join(root, `${cluster}.status.json`);
}

export function readRunRecord(root: string, cluster: string): BackupRunRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(runRecordFile(root, cluster), 'utf8')) as BackupRunRecord;
    return r.kind === 'BackupStatus' && r.cluster === cluster ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Records one run (success or failure), keeping the last success. Never throws: a record is not worth failing a backup for. */
export function recordRun(root: string, cluster: string, run: BackupRunRecord['lastRun']): void {
  try {
    const prev = readRunRecord(root, cluster);
    const rec: BackupRunRecord = {
      apiVersion: BACKUP_API_VERSION,
      kind: 'BackupStatus',
      cluster,
      lastRun: run,
      ...(run.ok && run.dir !== undefined
        ? { lastSuccess: { at: run.at, dir: run.dir, sizeBytes: run.sizeBytes ?? 0 } }
        : prev?.lastSuccess
          ? { lastSuccess: prev.lastSuccess }
          : {}),
    };
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const file = runRecordFile(root, cluster);
    writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch {
    // best effort
  }
}

/** When the newest backup of the cluster was made (epoch ms), or undefined. */
export function lastBackupTime(root: string, cluster: string): number | undefined {
  const b = listBackups(root, cluster)[0];
  return b ? Date.parse(b.manifest.createdAt) : undefined;
}

/** Default place for backups: `<stateDir>/backups/<cluster>`. */
export function defaultBackupRoot(stateDirectory: string, cluster: string): string {
  return join(stateDirectory, 'backups', cluster);
}
