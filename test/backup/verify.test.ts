/**
 * backup verify: a real SQLite copy opened with the real sqlite3 (integrity_check, kine's objects),
 * a corrupted copy and a tampered checksum found, an etcd snapshot's appended hash checked, and
 * the drill restoring a lab backup into a scratch lab and counting its nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createBackupDir,
  writeBackupFile,
  writeManifest,
  BACKUP_API_VERSION,
  MANIFEST_VERSION,
  type BackupManifest,
} from '../../src/backup/store.js';
import { verifyBackupDir } from '../../src/backup/verify.js';
import { cliInProcess, labFixture, type LabFixture } from '../helpers/lab-cli.js';

cliInProcess();

/** A k3s-shaped SQLite datastore: kine's table with three nodes (one deleted later) and some objects. */
function kineDb(file: string): void {
  const rows: string[] = [];
  let id = 0;
  const put = (name: string, deleted = 0) => rows.push(`(${++id}, '${name}', 0, ${deleted}, ${id}, 0, 0, x'7b7d', NULL)`);
  for (const n of ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-gone']) put(`/registry/minions/${n}`);
  put('/registry/minions/k3s-gone', 1);
  for (let i = 0; i < 40; i++) put(`/registry/pods/default/web-${i}`);
  put('/registry/pods/default/web-0'); // a newer revision of the same key
  put('/compact_rev_key');
  const sql = `CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);
CREATE INDEX kine_name_index ON kine (name);
INSERT INTO kine VALUES ${rows.join(',\n')};`;
  execFileSync('sqlite3', [file], { input: sql });
}

function backupOf(files: Array<{ rel: string; kind: 'token' | 'sqlite' | 'etcd-snapshot'; data: Buffer }>, datastore: 'sqlite' | 'etcd') {
  const root = mkdtempSync(join(tmpdir(), 'pve-k3s-verify-'));
  const dir = createBackupDir(root, 'lab', new Date('2026-12-01T02:00:00Z'));
  const m: BackupManifest = {
    apiVersion: BACKUP_API_VERSION,
    kind: 'Backup',
    version: MANIFEST_VERSION,
    cluster: 'lab',
    createdAt: '2026-12-01T02:00:00.000Z',
    datastore,
    source: { node: 'k3s-ctrl-1', vmid: 100, host: 'pve1', k3sVersion: 'v1.33.3+k3s1' },
    servers: [{ node: 'k3s-ctrl-1', vmid: 100, host: 'pve1' }],
    files: files.map((f) => writeBackupFile(dir, { path: f.rel, kind: f.kind, data: f.data })),
    vzdump: [],
  };
  writeManifest(dir, m);
  return { root, dir, m, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function sqliteBackup() {
  const tmp = mkdtempSync(join(tmpdir(), 'pve-k3s-db-'));
  kineDb(join(tmp, 'state.db'));
  const data = readFileSync(join(tmp, 'state.db'));
  rmSync(tmp, { recursive: true, force: true });
  return backupOf(
    [
      { rel: 'k3s-ctrl-1/token', kind: 'token', data: Buffer.from('K10abc::server:secret\n') },
      { rel: 'k3s-ctrl-1/state.db', kind: 'sqlite', data },
    ],
    'sqlite',
  );
}

test('GIVEN a sound SQLite backup WHEN verified THEN sqlite3 finds it intact and counts the nodes and objects kine holds', async () => {
  const b = sqliteBackup();
  try {
    const v = await verifyBackupDir(b.dir);
    assert.equal(v.ok, true, JSON.stringify(v.checks));
    assert.deepEqual(
      v.checks.map((c) => [c.status, c.name, c.message]),
      [
        ['ok', 'manifest.json', 'pve-k3s.io/v1 Backup of lab, sqlite, 2 files, made 2026-12-01T02:00:00.000Z'],
        ['ok', 'checksums', '2 files match manifest.json and SHA256SUMS'],
        ['ok', 'k3s-ctrl-1/token', 'token present (22 bytes)'],
        ['ok', 'k3s-ctrl-1/state.db', 'sqlite3 PRAGMA integrity_check: ok'],
        ['ok', 'k3s-ctrl-1/state.db', 'holds 3 node(s) (k3s-ctrl-1, k3s-worker-1, k3s-worker-2) and 43 Kubernetes objects'],
      ],
    );
  } finally {
    b.cleanup();
  }
});

test('GIVEN a SQLite copy corrupted on disk (its checksums recomputed to match) WHEN verified THEN the real sqlite3 integrity check fails it', async () => {
  const b = sqliteBackup();
  try {
    const db = join(b.dir, 'k3s-ctrl-1/state.db');
    assert.ok(statSync(db).size >= 8192);
    // Overwrite the header of page 2 (the kine table b-tree) with garbage.
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, 4096);
    closeSync(fd);
    const data = readFileSync(db);
    const m = {
      ...b.m,
      files: b.m.files.map((f) => (f.kind === 'sqlite' ? { ...f, sha256: createHash('sha256').update(data).digest('hex') } : f)),
    };
    writeManifest(b.dir, m);
    const v = await verifyBackupDir(b.dir);
    assert.equal(v.ok, false);
    const bad = v.checks.filter((c) => c.status === 'failed');
    assert.equal(bad.length, 1, JSON.stringify(v.checks));
    assert.equal(bad[0]?.name, 'k3s-ctrl-1/state.db');
    assert.match(bad[0]?.message ?? '', /^sqlite3 PRAGMA integrity_check: .*(malformed|corrupt|Tree|Page|page)/);
  } finally {
    b.cleanup();
  }
});

test('GIVEN a tampered SHA256SUMS, or a file changed after the backup WHEN verified THEN the checksum check names the file', async () => {
  const b = sqliteBackup();
  try {
    const sums = join(b.dir, 'SHA256SUMS');
    const text = readFileSync(sums, 'utf8');
    writeFileSync(sums, text.replace(/^[0-9a-f]{64}(?=  k3s-ctrl-1\/token)/m, '0'.repeat(64)));
    let v = await verifyBackupDir(b.dir);
    assert.equal(v.ok, false);
    assert.deepEqual(
      v.checks.filter((c) => c.status === 'failed').map((c) => c.message),
      [`k3s-ctrl-1/token: SHA256SUMS says 000000000000…, manifest.json says ${b.m.files[0]!.sha256.slice(0, 12)}…`],
    );
    writeFileSync(sums, text);
    writeFileSync(join(b.dir, 'k3s-ctrl-1/token'), 'K10other::server:x\n');
    v = await verifyBackupDir(b.dir);
    assert.match(
      v.checks.find((c) => c.name === 'checksums')?.message ?? '',
      /^k3s-ctrl-1\/token: sha256 [0-9a-f]{12}… does not match the manifest's [0-9a-f]{12}…$/,
    );
    assert.equal(
      v.checks.some((c) => c.name === 'k3s-ctrl-1/token'),
      false,
      'a damaged file is not read further',
    );
  } finally {
    b.cleanup();
  }
});

test("GIVEN an etcd snapshot with etcd's appended sha256 WHEN verified THEN it passes; one flipped byte fails it; one without a hash is a warning", async () => {
  const db = Buffer.alloc(8192);
  db.writeUInt32LE(0xed0cdaed, 16); // bbolt meta page magic
  db.write('some keys', 4096);
  const snap = Buffer.concat([db, createHash('sha256').update(db).digest()]);
  const token = { rel: 'k3s-server-1/token', kind: 'token' as const, data: Buffer.from('K10abc::server:secret\n') };
  const good = backupOf([token, { rel: 'k3s-server-1/etcd-snapshot-k3s-server-1-1764554400', kind: 'etcd-snapshot', data: snap }], 'etcd');
  const flipped = Buffer.from(snap);
  flipped[5000] = (flipped[5000] ?? 0) ^ 1;
  const bad = backupOf(
    [token, { rel: 'k3s-server-1/etcd-snapshot-k3s-server-1-1764554400', kind: 'etcd-snapshot', data: flipped }],
    'etcd',
  );
  const bare = backupOf([token, { rel: 'k3s-server-1/snap', kind: 'etcd-snapshot', data: db }], 'etcd');
  try {
    const g = await verifyBackupDir(good.dir);
    assert.equal(g.ok, true);
    assert.equal(g.checks.at(-1)?.message.startsWith('etcd snapshot integrity hash matches (8192 bytes'), true, JSON.stringify(g.checks));
    const b = await verifyBackupDir(bad.dir);
    assert.equal(b.ok, false);
    assert.equal(b.checks.at(-1)?.message, 'the sha256 etcd appended to the snapshot does not match its content (snapshot corrupt)');
    const n = await verifyBackupDir(bare.dir);
    assert.equal(n.ok, true);
    assert.equal(n.checks.at(-1)?.status, 'warning');
  } finally {
    good.cleanup();
    bad.cleanup();
    bare.cleanup();
  }
});

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

test('GIVEN a backup of an embedded-etcd lab WHEN verify --drill runs THEN it is restored into a scratch lab that holds its 4 nodes, and the real lab is untouched', async () => {
  await withLab({ servers: 3, workers: 1, hosts: 2 }, async (f) => {
    const b = await f.cli(['backup', '-o', 'json']);
    assert.equal(b.code, 0, b.stderr);
    const before = JSON.stringify(f.lab.state.clusters);
    const r = await f.cli(['backup', 'verify', '--drill', '-o', 'json'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, 'BackupVerification');
    assert.deepEqual(doc.drill.nodes.map((n: { name: string }) => n.name).sort(), [
      'k3s-server-1',
      'k3s-server-2',
      'k3s-server-3',
      'k3s-worker-1',
    ]);
    assert.match(doc.drill.scratch, /^a scratch lab \(3 servers, etcd\) in /);
    assert.equal(JSON.stringify(f.lab.state.clusters), before, 'the drill never touches the real cluster');
    const t = await f.cli(['backup', 'verify', '--drill'], { timeoutMs: 180_000 });
    assert.equal(t.code, 0, t.stderr);
    assert.match(
      t.stdout,
      /ok {7}drill: restored into a scratch lab \(3 servers, etcd\) in .* it holds 4 node\(s\) \(k3s-server-1, k3s-server-2, k3s-server-3, k3s-worker-1\), \d+ pod\(s\), \d+ PodDisruptionBudget\(s\)/,
    );
    assert.match(t.stdout, /Backup verified\.\n$/);
  });
});
