/**
 * `backup verify`: is this backup intact and does its datastore open? Checks the manifest,
 * every file's sha256 against manifest.json AND SHA256SUMS, the token, the SQLite copy with the
 * real `sqlite3` (`PRAGMA integrity_check`, then the Kubernetes objects kine holds), and an etcd
 * snapshot's own integrity hash (etcd appends the sha256 of the database to a snapshot; a
 * snapshot whose size is 32 bytes past a multiple of 512 carries one, as etcdutl decides).
 * Runs on this machine only; nothing touches a cluster.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalShell } from '../shell/local-shell.js';
import type { Shell } from '../shell/shell.js';
import { readManifest, verifyBackup, type BackupFile, type BackupManifest } from './store.js';

export type CheckStatus = 'ok' | 'warning' | 'failed';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
}

export interface Verification {
  dir: string;
  manifest: BackupManifest | undefined;
  checks: Check[];
  /** What the datastore holds, when it could be read. */
  contents: { nodes: number; objects: number; nodeNames: string[] } | undefined;
  ok: boolean;
}

export interface VerifyOptions {
  /** Runs sqlite3 (and etcdutl when present). @default a LocalShell */
  shell?: Shell;
}

/** The live keys kine holds: the newest row of each name, not deleted. */
export const KINE_COUNT_SQL =
  "SELECT COUNT(*), COALESCE(SUM(k.name LIKE '/registry/minions/%'), 0) FROM kine AS k WHERE k.id = (SELECT MAX(id) FROM kine WHERE name = k.name) AND k.deleted = 0 AND k.name LIKE '/registry/%';";
export const KINE_NODES_SQL =
  "SELECT substr(k.name, 19) FROM kine AS k WHERE k.name LIKE '/registry/minions/%' AND k.id = (SELECT MAX(id) FROM kine WHERE name = k.name) AND k.deleted = 0 ORDER BY 1;";

export async function verifyBackupDir(dir: string, o: VerifyOptions = {}): Promise<Verification> {
  const checks: Check[] = [];
  let manifest: BackupManifest;
  try {
    manifest = readManifest(dir);
  } catch (e) {
    checks.push({ name: 'manifest.json', status: 'failed', message: (e as Error).message });
    return { dir, manifest: undefined, checks, contents: undefined, ok: false };
  }
  checks.push({
    name: 'manifest.json',
    status: 'ok',
    message: `${manifest.apiVersion} Backup of ${manifest.cluster}, ${manifest.datastore}, ${manifest.files.length} files, made ${manifest.createdAt}`,
  });
  const problems = verifyBackup(dir, manifest);
  problems.push(...sumsFileProblems(dir, manifest.files));
  checks.push(
    problems.length
      ? { name: 'checksums', status: 'failed', message: problems.join('; ') }
      : { name: 'checksums', status: 'ok', message: `${manifest.files.length} files match manifest.json and SHA256SUMS` },
  );
  const damaged = new Set(problems.map((p) => p.split(':')[0]));
  const shell = o.shell ?? new LocalShell();
  let contents: Verification['contents'];
  for (const f of manifest.files) {
    const full = join(dir, f.path);
    if (!existsSync(full) || damaged.has(f.path)) continue;
    if (f.kind === 'token') {
      const t = readFileSync(full, 'utf8').trim();
      checks.push(
        t.length > 0
          ? { name: f.path, status: 'ok', message: `token present (${f.size} bytes)` }
          : { name: f.path, status: 'failed', message: 'the token is empty: the datastore cannot be decrypted or joined without it' },
      );
    } else if (f.kind === 'sqlite') {
      const r = await sqliteChecks(shell, full, f.path);
      checks.push(...r.checks);
      contents = r.contents ?? contents;
    } else {
      checks.push(...(await etcdChecks(shell, full, f.path)));
    }
  }
  return { dir, manifest, checks, contents, ok: checks.every((c) => c.status !== 'failed') };
}

/** SHA256SUMS must list exactly the manifest's files with the same sums (either one may have been edited). */
export function sumsFileProblems(dir: string, files: BackupFile[]): string[] {
  const file = join(dir, 'SHA256SUMS');
  if (!existsSync(file)) return ['SHA256SUMS is missing'];
  const listed = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) listed.set(m[2] ?? '', m[1] ?? '');
    else if (line.trim() !== '') return [`SHA256SUMS: cannot read the line "${line.slice(0, 80)}"`];
  }
  const out: string[] = [];
  for (const f of files) {
    const s = listed.get(f.path);
    if (s === undefined) out.push(`${f.path}: not in SHA256SUMS`);
    else if (s !== f.sha256) out.push(`${f.path}: SHA256SUMS says ${s.slice(0, 12)}…, manifest.json says ${f.sha256.slice(0, 12)}…`);
    listed.delete(f.path);
  }
  for (const p of listed.keys()) out.push(`${p}: in SHA256SUMS but not in manifest.json`);
  return out;
}

async function sqliteChecks(shell: Shell, file: string, name: string): Promise<{ checks: Check[]; contents?: Verification['contents'] }> {
  const run = (sql: string) => shell.run(['sqlite3', '-readonly', '-batch', '-bail', file, sql], { timeoutMs: 10 * 60_000 });
  const r = await run('PRAGMA integrity_check;');
  if (r.code === 127)
    return {
      checks: [
        { name, status: 'warning', message: 'not opened: sqlite3 is not installed on this machine (Debian/Ubuntu: apt install sqlite3)' },
      ],
    };
  const out = r.stdout.trim();
  if (r.code !== 0 || out !== 'ok') {
    const why = (r.stderr.trim() || out).split('\n').slice(0, 5).join('; ');
    return { checks: [{ name, status: 'failed', message: `sqlite3 PRAGMA integrity_check: ${why}` }] };
  }
  const checks: Check[] = [{ name, status: 'ok', message: 'sqlite3 PRAGMA integrity_check: ok' }];
  const t = await run("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'kine';");
  if (t.code !== 0 || t.stdout.trim() !== '1') {
    checks.push({ name, status: 'failed', message: 'no kine table: this SQLite database is not a k3s datastore' });
    return { checks };
  }
  const c = await run(KINE_COUNT_SQL);
  const n = await run(KINE_NODES_SQL);
  const [objects, nodes] = c.stdout.trim().split('|').map(Number);
  if (c.code !== 0 || n.code !== 0 || objects === undefined || nodes === undefined || !Number.isFinite(objects)) {
    checks.push({ name, status: 'failed', message: `cannot count the objects in kine: ${(c.stderr || n.stderr).trim()}` });
    return { checks };
  }
  const nodeNames = n.stdout.split('\n').filter(Boolean);
  checks.push({
    name,
    status: 'ok',
    message: `holds ${nodes} node(s) (${nodeNames.join(', ') || 'none'}) and ${objects} Kubernetes objects`,
  });
  return { checks, contents: { nodes, objects, nodeNames } };
}

/** bbolt's meta page magic (etcd's backend), at offset 16 of the file. */
const BOLT_MAGIC = 0xed0cdaed;

async function etcdChecks(shell: Shell, file: string, name: string): Promise<Check[]> {
  const data = readFileSync(file);
  if (name.endsWith('.zip')) {
    return data.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))
      ? [
          {
            name,
            status: 'warning',
            message: "compressed snapshot (--etcd-snapshot-compress): etcd's hash is inside the archive and is checked by k3s at restore",
          },
        ]
      : [{ name, status: 'failed', message: 'named .zip but not a zip archive' }];
  }
  const checks: Check[] = [];
  if (data.length % 512 === 32) {
    const db = data.subarray(0, data.length - 32);
    const want = data.subarray(data.length - 32);
    const got = createHash('sha256').update(db).digest();
    if (!got.equals(want))
      return [
        { name, status: 'failed', message: 'the sha256 etcd appended to the snapshot does not match its content (snapshot corrupt)' },
      ];
    if (db.length < 24 || db.readUInt32LE(16) !== BOLT_MAGIC)
      return [{ name, status: 'failed', message: 'not an etcd (bbolt) database: its meta page has no bolt magic' }];
    checks.push({ name, status: 'ok', message: `etcd snapshot integrity hash matches (${db.length} bytes of bbolt database)` });
  } else {
    checks.push({
      name,
      status: 'warning',
      message:
        'no integrity hash appended (not a streamed etcd snapshot, or truncated): etcdutl would restore it only with --skip-hash-check',
    });
  }
  const st = await shell.run(['etcdutl', 'snapshot', 'status', file, '-w', 'json'], { timeoutMs: 120_000 }).catch(() => undefined);
  if (st && st.code === 0) {
    try {
      const j = JSON.parse(st.stdout) as { revision?: number; totalKey?: number; totalSize?: number };
      checks.push({
        name,
        status: 'ok',
        message: `etcdutl snapshot status: revision ${j.revision}, ${j.totalKey} keys, ${j.totalSize} bytes`,
      });
    } catch {
      // an etcdutl that prints something else: the hash check above stands
    }
  } else if (st && st.code !== 127) {
    checks.push({ name, status: 'failed', message: `etcdutl snapshot status: ${st.stderr.trim().split('\n').pop() ?? `exit ${st.code}`}` });
  }
  return checks;
}
