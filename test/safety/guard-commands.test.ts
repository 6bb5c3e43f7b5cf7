// Every command that changes the cluster is refused while another operation holds its lease:
// uninstall, restore and backup --offline beside an upgrade run from another machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { labFixture } from '../helpers/lab-cli.js';
import { loadInventory } from '../../src/inventory/index.js';
import { connectCluster } from '../../src/operation/connect.js';
import { guarded, guardEnvFor } from '../../src/operation/guard.js';
import { labBreak } from '../../src/lab/index.js';

test('GIVEN an upgrade holding the lease from another machine WHEN uninstall, restore or backup --offline runs THEN each is refused naming it, exit 1, and nothing changed; a plain backup still runs', async () => {
  const f = await labFixture({});
  const conn = await connectCluster(await loadInventory(f.inventory));
  try {
    f.lab.update((s) => labBreak(s, 'k3s-ctrl-1', 'sqlite3')); // installs the sqlite3 CLI
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
