import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFixture } from '../../helpers/lab-cli.js';
import { loadInventory } from '../../../src/inventory/index.js';
import { connectCluster } from '../../../src/operation/connect.js';
import { preflightCluster } from '../../../src/upgrade/plan/plan-cluster.js';
import type { RunOptions, Shell } from '../../../src/shell/shell.js';

/** Counts what reaches each host (as bench/counting-shell.ts does). */
function counted(shells: ReadonlyMap<string, Shell>): { shells: Map<string, Shell>; calls: Map<string, string[]> } {
  const calls = new Map<string, string[]>();
  const out = new Map<string, Shell>();
  for (const [name, s] of shells) {
    calls.set(name, []);
    out.set(name, {
      host: s.host,
      run: (argv: readonly string[], opts?: RunOptions) => {
        calls.get(name)!.push(argv.join(' '));
        return s.run(argv, opts);
      },
      close: () => s.close(),
    });
  }
  return { shells: out, calls };
}

test('a no-op plan with its preflight sends ONE request to each host (the facts probe and the preflight probe together)', async () => {
  const f = await labFixture({ hosts: 2, servers: 1, workers: 3 });
  try {
    const conn = await connectCluster(await loadInventory(f.inventory));
    try {
      const c = counted(conn.shells);
      const r = await preflightCluster({ ...conn, shells: c.shells }, {});
      assert.equal(r.planError, undefined);
      assert.ok(r.plan && r.preflight, 'planned, with the preflight');
      // Both probes were answered: the facts (a version for each node) and the preflight's reads.
      assert.ok(r.facts.nodes.every((n) => n.installed !== undefined));
      assert.ok(r.probe!.hosts.every((h) => h.error === undefined && h.pve !== undefined));
      assert.deepEqual(
        [...c.calls].map(([h, argvs]) => [h, argvs]),
        [...c.calls.keys()].map((h) => [h, ['sh -s']]),
      );
    } finally {
      await conn.close();
    }
  } finally {
    f.cleanup();
  }
});
