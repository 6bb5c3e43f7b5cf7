// Every command that changes the cluster is refused while another operation holds its lease:
// uninstall, restore, backup --offline, install, join, doctor --fix and lab reset beside an
// upgrade run from another machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';
import { loadInventory } from '../../src/inventory/index.js';
import { connectCluster } from '../../src/operation/connect.js';
import { guarded, guardEnvFor } from '../../src/operation/guard.js';
import { labBreak } from '../../src/lab/index.js';
import { clusterLeases } from '../../src/lab/kube-leases.js';
import { Journal, journalPath } from '../../src/operation/journal.js';

cliInProcess();

test('GIVEN an upgrade holding the lease from another machine WHEN uninstall, restore or backup --offline runs THEN each is refused naming it, exit 1, and nothing changed; a plain backup still runs', async () => {
  const f = await labFixture({});
  const conn = await connectCluster(await loadInventory(f.inventory));
  try {
    f.lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'sqlite3' })); // installs the sqlite3 CLI
    const made = await f.cli(['backup']);
    assert.equal(made.code, 0, made.stderr);
    const root = join(f.dir, 'state', 'pve-k3s', 'backups', 'lab');
    const [name] = readdirSync(root).filter((n) => n.startsWith('lab-'));
    const before = f.lab.summary();
    // Operator B: its own state directory (another machine), holding the lease for an upgrade.
    const other = guardEnvFor(conn, { ...f.env, XDG_STATE_HOME: join(f.dir, 'state-other') });
    await guarded(other, { operation: 'upgrade', stepIds: ['1/k3s-worker-1/drain'] }, async (g) => {
      await g.beforeStep({ id: '1/k3s-worker-1/drain', node: 'k3s-worker-1' });
      for (const [args, verb] of [
        [['uninstall', 'k3s-worker-3', '--yes'], 'uninstall'],
        [['restore', join(root, name!), '--yes'], 'restore'],
        [['backup', '--offline'], 'backup'],
      ] as const) {
        const r = await f.cli([...args]);
        assert.equal(r.code, 1, `${verb}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(`^error: cannot ${verb} lab: upgrade in progress: step 1/1 k3s-worker-1 drain, by \\S+ since \\d\\d:\\d\\d$`, 'm'),
        );
      }
      const online = await f.cli(['backup']);
      assert.equal(online.code, 0, online.stderr);
    });
    assert.deepEqual(f.lab.summary(), before);
    // Free again: uninstall runs, and leaves the lease released.
    const u = await f.cli(['uninstall', 'k3s-worker-3', '--yes']);
    assert.equal(u.code, 0, u.stderr);
  } finally {
    await conn.close();
    f.cleanup();
  }
});

test('GIVEN an upgrade holding the lease from another machine WHEN install, join, doctor --fix or lab reset runs THEN each is refused naming it, exit 1, and nothing changed', async () => {
  const f = await labFixture({ workers: 2 });
  const conn = await connectCluster(await loadInventory(f.inventory));
  try {
    // Something for each to do: worker-1 lacks its lxc.* lines (install and join would add them), worker-2's / is not rshared (doctor --fix would fix it).
    f.lab.update((s) => {
      labBreak(s, { node: 'k3s-worker-1', what: 'lxc-missing' });
      labBreak(s, { node: 'k3s-worker-2', what: 'not-rshared' });
    });
    const hosts = () => JSON.stringify(f.lab.state.hosts.map((h) => h.containers.map((c) => [c.vmid, c.status, c.config])));
    const before = { summary: f.lab.summary(), hosts: hosts() };
    const other = guardEnvFor(conn, { ...f.env, XDG_STATE_HOME: join(f.dir, 'state-other') });
    await guarded(other, { operation: 'upgrade', stepIds: ['1/k3s-worker-1/drain'] }, async (g) => {
      await g.beforeStep({ id: '1/k3s-worker-1/drain', node: 'k3s-worker-1' });
      for (const [args, verb] of [
        [['install', '--yes'], 'install'],
        [['join', 'k3s-worker-1', '--yes'], 'join'],
        [['doctor', '--fix'], 'doctor --fix'],
        [['lab', 'reset'], 'lab reset'],
      ] as const) {
        const r = await f.cli([...args]);
        assert.equal(r.code, 1, `${verb}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(`^error: cannot ${verb} lab: upgrade in progress: step 1/1 k3s-worker-1 drain, by \\S+ since \\d\\d:\\d\\d$`, 'm'),
        );
        assert.match(r.stderr, /^ {2}lease kube-system\/pve-k3s-lab held by \S+@\S+ pid \d+ run \S+ upgrade, renewed at /m);
      }
      assert.deepEqual({ summary: f.lab.summary(), hosts: hosts() }, before, 'nothing changed');
    });
    // Free again: doctor --fix repairs worker-2 and leaves the lease released, recording its run.
    const fixed = await f.cli(['doctor', '--fix']);
    assert.match(fixed.stdout, /fixed: .*k3s-worker-2/, fixed.stdout + fixed.stderr);
    const { readClusterState } = await import('../../src/operation/guard.js');
    const st = await readClusterState(guardEnvFor(conn, f.env));
    assert.equal(st.view.holderIdentity, undefined, 'released');
    assert.equal(st.record?.operation, 'doctor --fix');
    assert.equal(st.record?.state, 'done');
  } finally {
    await conn.close();
    f.cleanup();
  }
});

test('GIVEN a bare lab WHEN install runs THEN it is journaled from the start, takes the lease once its first server is up, and leaves it released with a record of the run', async () => {
  const f = await labFixture({ bare: true, servers: 1, workers: 1, hosts: 1 });
  const conn = await connectCluster(await loadInventory(f.inventory));
  try {
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const journal = new Journal(journalPath(join(f.dir, 'state', 'pve-k3s'), 'lab'));
    const recs = journal.read();
    assert.equal(recs[0]?.type, 'run-start');
    const last = journal.lastRun()!;
    assert.equal(last.operation, 'install');
    assert.equal(last.status, 'done');
    assert.deepEqual(last.completed, [
      'install/k3s-ctrl-1/container',
      'install/k3s-worker-1/container',
      'install/k3s-ctrl-1/k3s',
      'install/k3s-worker-1/k3s',
    ]);
    const { readClusterState } = await import('../../src/operation/guard.js');
    const st = await readClusterState(guardEnvFor(conn, f.env));
    assert.equal(st.view.holderIdentity, undefined, 'released');
    // The lease was taken after the first server's step; the record it carries covers the whole run.
    assert.equal(st.record?.run, last.run);
    assert.equal(st.record?.operation, 'install');
    assert.equal(st.record?.state, 'done');
    assert.equal(st.record?.lastCompleted, 'install/k3s-worker-1/k3s');
    assert.deepEqual(st.record?.nodesDone, ['k3s-ctrl-1', 'k3s-worker-1']);
    assert.equal(st.record?.completed, 4);
    // A second install changes nothing (and takes nothing).
    const again = await f.cli(['install', '--yes']);
    assert.match(again.stdout, /Nothing to do/);
  } finally {
    await conn.close();
    f.cleanup();
  }
});

test('GIVEN a lab with a released lease and a journal WHEN lab reset runs THEN the fresh world has no lease and the journal is gone', async () => {
  const f = await labFixture({ workers: 1 });
  const conn = await connectCluster(await loadInventory(f.inventory));
  try {
    const u = await f.cli(['uninstall', 'k3s-worker-1', '--yes']);
    assert.equal(u.code, 0, u.stderr);
    const lease = () => clusterLeases(f.lab.state.clusters[f.lab.state.cluster])['kube-system/pve-k3s-lab'];
    assert.ok(lease(), 'uninstall left its (released) lease');
    const r = await f.cli(['lab', 'reset']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Reset the lab in \S+ to its initial state and removed its journal \S+lab\.jsonl\.\n$/);
    assert.equal(lease(), undefined);
    assert.equal(existsSync(join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl')), false);
  } finally {
    await conn.close();
    f.cleanup();
  }
});
