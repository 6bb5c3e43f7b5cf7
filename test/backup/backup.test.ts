/** backup and restore on the lab: SQLite and etcd round trips, checksum refusal, retention, vzdump. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess, labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { labBreak } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}
const root = (f: LabFixture) => join(f.dir, 'state', 'pve-k3s', 'backups', 'lab');
const backups = (f: LabFixture) =>
  existsSync(root(f))
    ? readdirSync(root(f))
        .filter((n) => n.startsWith('lab-'))
        .sort()
    : [];
async function annotate(lab: Lab, vmid: number, host: string, node: string, kv: string) {
  const r = await lab.shell(host).run(['pct', 'exec', String(vmid), '--', '/usr/local/bin/kubectl', 'annotate', 'node', node, kv]);
  assert.equal(r.code, 0, r.stderr);
}
const annotation = (lab: Lab, node: string) => lab.state.clusters.lab?.nodes[node]?.annotations['after-backup'];

test('GIVEN a SQLite server without sqlite3 WHEN backup runs THEN it refuses and names both ways out', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['backup']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: k3s-ctrl-1: the sqlite3 command is not installed in the container, so a consistent copy of the live datastore cannot be made\n  install it (pct exec 100 -- apt-get install -y sqlite3), or pass --offline to copy the database with k3s stopped for a moment\n',
    );
    assert.deepEqual(backups(f), []);
  });
});

test('GIVEN a SQLite cluster WHEN backed up, changed and restored THEN the change is gone, files are 0600 and the token is never printed', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'sqlite3' }));
    const b = await f.cli(['backup']);
    assert.equal(b.code, 0, b.stderr);
    const [name] = backups(f);
    assert.ok(name?.startsWith('lab-'));
    const dir = join(root(f), name!);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const rel of ['manifest.json', 'SHA256SUMS', 'k3s-ctrl-1/token', 'k3s-ctrl-1/state.db'])
      assert.equal(statSync(join(dir, rel)).mode & 0o777, 0o600, rel);
    const token = f.lab.state.token;
    assert.equal(readFileSync(join(dir, 'k3s-ctrl-1/token'), 'utf8'), `${token}\n`);
    assert.ok(!b.stdout.includes(token) && !b.stderr.includes(token));
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(m.apiVersion, 'pve-k3s.io/v1');
    assert.equal(m.kind, 'Backup');
    assert.equal(m.version, 1);
    assert.equal(m.datastore, 'sqlite');
    await annotate(f.lab, 100, 'pve1', 'k3s-worker-1', 'after-backup=yes');
    const refused = await f.cli(['restore', dir]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stdout,
      /^Restore lab from .*\n  made .* from k3s-ctrl-1, sqlite, k3s v1\.33\.3\+k3s1; checksums OK\n  1\. k3s-ctrl-1: stop k3s/,
    );
    assert.equal(annotation(f.lab, 'k3s-worker-1'), 'yes');
    const r = await f.cli(['restore', dir, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(annotation(f.lab, 'k3s-worker-1'), undefined);
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token));
  });
});

test('GIVEN no sqlite3 WHEN backup --offline runs THEN k3s is stopped for the copy, started again, and the backup restores', async () => {
  await withLab({}, async (f) => {
    const b = await f.cli(['backup', '--offline']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(f.lab.state.hosts[0]?.containers[0]?.k3s.services.k3s?.running, true);
    await annotate(f.lab, 100, 'pve1', 'k3s-worker-2', 'after-backup=yes');
    const r = await f.cli(['restore', join(root(f), backups(f)[0]!), '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(annotation(f.lab, 'k3s-worker-2'), undefined);
  });
});

test('GIVEN an embedded-etcd cluster WHEN backed up, changed and restored THEN cluster-reset restores it and the other servers rejoin', async () => {
  await withLab({ servers: 3, workers: 1, hosts: 2 }, async (f) => {
    const b = await f.cli(['backup', '-o', 'json']);
    assert.equal(b.code, 0, b.stderr);
    const doc = JSON.parse(b.stdout);
    assert.equal(doc.manifest.datastore, 'etcd');
    assert.match(doc.manifest.files[1].path, /^k3s-server-1\/pve-k3s-\d{8}t\d{6}z-k3s-server-1-\d+$/);
    await annotate(f.lab, 100, 'pve1', 'k3s-worker-1', 'after-backup=yes');
    const r = await f.cli(['restore', doc.dir, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /k3s-server-2: delete \/var\/lib\/rancher\/k3s\/server\/db \(its old etcd member data\), start k3s: it rejoins k3s-server-1/,
    );
    assert.match(r.stderr, /k3s-server-1: k3s server --cluster-reset --cluster-reset-restore-path=/);
    assert.equal(annotation(f.lab, 'k3s-worker-1'), undefined);
    const servers = f.lab.state.hosts.flatMap((h) => h.containers).filter((c) => c.hostname.startsWith('k3s-server'));
    assert.deepEqual(
      servers.map((c) => c.k3s.services.k3s?.running),
      [true, true, true],
    );
  });
});

test('GIVEN a backup whose file was changed WHEN restore runs THEN it is refused before anything happens', async () => {
  await withLab({}, async (f) => {
    assert.equal((await f.cli(['backup', '--offline'])).code, 0);
    const dir = join(root(f), backups(f)[0]!);
    appendFileSync(join(dir, 'k3s-ctrl-1/state.db'), 'x');
    const r = await f.cli(['restore', dir, '--yes']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^error: refusing to restore .*: the backup does not match its manifest\n  the backup is damaged or was changed; restore another one \(pve-k3s keeps them under its state dir, newest first\)\n- k3s-ctrl-1\/state\.db: sha256 [0-9a-f]{12}… does not match the manifest's [0-9a-f]{12}…\n$/,
    );
  });
});

test('GIVEN three backups WHEN backup --keep 2 runs THEN only the two newest remain', async () => {
  await withLab({}, async (f) => {
    for (let i = 0; i < 3; i++) {
      const r = await f.cli(['backup', '--offline', '--keep', '2']);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(backups(f).length, 2);
    const bad = await f.cli(['backup', '--keep', '0']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: --keep must be a whole number of at least 1, got "0"\n');
  });
});

test('GIVEN --vzdump WHEN backup runs THEN each container is dumped and reported; a failure exits 1', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['backup', '--offline', '--vzdump', '--mode', 'snapshot']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /vzdump k3s-worker-3 \(pve2\/103\): OK \/var\/lib\/vz\/dump\/vzdump-lxc-103-.*\.tar\.zst/);
    const bad = await f.cli(['backup', '--offline', '--vzdump', '--storage', 'local-lvm']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /vzdump k3s-ctrl-1 \(pve1\/100\): FAILED: storage 'local-lvm' does not support backups/);
  });
});
