/**
 * Backup and restore over real OpenSSH with every script in a real sh (dash, then busybox sh),
 * containers in their own roots (test/e2e/harness/realsh.ts): the backup pull and the restore
 * scripts, which the in-process lab's sh also runs, here run in dash and busybox sh.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labBreak, type Lab } from '../../src/lab/index.js';
import { labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { REAL_SHELLS, realShSkipReason, startRealShHosts, type RealShHosts } from './harness/realsh.js';
import { realShInventory } from './harness/inventory.js';

const skip = realShSkipReason();

const backupsOf = (f: LabFixture) => {
  const root = join(f.dir, 'state', 'pve-k3s', 'backups', 'lab');
  return existsSync(root)
    ? readdirSync(root)
        .filter((n) => n.startsWith('lab-'))
        .sort()
        .map((n) => join(root, n))
    : [];
};

/** Changes the cluster after the backup (an annotation the restore must take away). */
function annotate(lab: Lab, node: string): void {
  lab.update((s) => {
    s.clusters['lab']!.nodes[node]!.annotations['after-backup'] = 'yes';
  });
}
const annotation = (lab: Lab, node: string) => lab.state.clusters['lab']?.nodes[node]?.annotations['after-backup'];

async function withRealSh(
  shell: (typeof REAL_SHELLS)[number],
  opts: Parameters<typeof labFixture>[0],
  prepare: (lab: Lab) => void,
): Promise<{ f: LabFixture; hosts: RealShHosts }> {
  const f = await labFixture({ ...opts, clock: 'real' });
  prepare(f.lab);
  const hosts = await startRealShHosts(f.lab, shell);
  writeFileSync(f.inventory, realShInventory(f.lab, hosts));
  return { f, hosts };
}

for (const shell of REAL_SHELLS) {
  describe(`backup and restore of a SQLite cluster over a real sshd, scripts in ${shell}`, { skip: skip ?? false }, () => {
    let f: LabFixture;
    let hosts: RealShHosts;
    before(async () => {
      ({ f, hosts } = await withRealSh(shell, { hosts: 2 }, (lab) =>
        lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'sqlite3' })),
      ));
    });
    after(async () => {
      await hosts?.stop();
      f?.cleanup();
    });

    test(`GIVEN sqlite3 in the server WHEN backup, a change and restore --yes run (${shell}) THEN the change is gone, the files are 0600 and the token never printed`, async () => {
      const b = await f.cli(['backup'], { timeoutMs: 180_000 });
      assert.equal(b.code, 0, b.stderr);
      const [dir] = backupsOf(f);
      assert.ok(dir !== undefined, b.stdout);
      for (const rel of ['manifest.json', 'SHA256SUMS', 'k3s-ctrl-1/token', 'k3s-ctrl-1/state.db'])
        assert.equal(statSync(join(dir, rel)).mode & 0o777, 0o600, rel);
      const token = f.lab.state.token;
      assert.equal(readFileSync(join(dir, 'k3s-ctrl-1/token'), 'utf8'), `${token}\n`);
      assert.ok(!b.stdout.includes(token) && !b.stderr.includes(token));
      annotate(f.lab, 'k3s-worker-1');
      const r = await f.cli(['restore', dir, '--yes'], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(annotation(f.lab, 'k3s-worker-1'), undefined);
      assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token));
      // The restore's private directory was made, used and removed by the real sh in the server's root.
      assert.equal(existsSync(join(hosts.rootsDir, 'pve1-100', 'fs', 'var/lib/rancher/k3s/server/pve-k3s-restore')), false);
      assert.equal(f.lab.state.hosts[0]?.containers[0]?.k3s.services.k3s?.running, true);
    });
  });

  describe(`backup and restore of an embedded-etcd cluster over a real sshd, scripts in ${shell}`, { skip: skip ?? false }, () => {
    let f: LabFixture;
    let hosts: RealShHosts;
    before(async () => {
      ({ f, hosts } = await withRealSh(shell, { servers: 3, workers: 1, hosts: 2 }, () => {}));
    });
    after(async () => {
      await hosts?.stop();
      f?.cleanup();
    });

    test(`GIVEN three etcd servers WHEN backup, a change and restore --yes run (${shell}) THEN cluster-reset restores the snapshot and the other servers rejoin`, async () => {
      const b = await f.cli(['backup', '-o', 'json'], { timeoutMs: 180_000 });
      assert.equal(b.code, 0, b.stderr);
      const doc = JSON.parse(b.stdout) as { dir: string; manifest: { datastore: string } };
      assert.equal(doc.manifest.datastore, 'etcd');
      annotate(f.lab, 'k3s-worker-1');
      const r = await f.cli(['restore', doc.dir, '--yes'], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /k3s-server-1: k3s server --cluster-reset --cluster-reset-restore-path=/);
      assert.equal(annotation(f.lab, 'k3s-worker-1'), undefined);
      const servers = f.lab.state.hosts.flatMap((h) => h.containers).filter((c) => c.hostname.startsWith('k3s-server'));
      assert.deepEqual(
        servers.map((c) => c.k3s.services.k3s?.running),
        [true, true, true],
      );
    });
  });
}
