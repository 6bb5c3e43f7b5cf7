/**
 * executeUpgrade opens the runner's sessions into the controller and the first node while the
 * lease is taken, and the runner then uses those very sessions: no container is entered twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Shell } from '../../../src/shell/shell.js';
import { watching } from '../../helpers/watch-shell.js';
import { makeWorld, operator, upgradeBy } from '../../safety/operators.js';

/** Logs each session opened (`open <vmid>`) and each lease write (`lease write`), in order. */
function logging(inner: Shell, log: string[]): Shell {
  return watching(inner, {
    opened: (argv) => log.push(`open ${argv[2]}`),
    sent: (script) => {
      if (/kubectl'? '?(create|replace)'? '?-f/.test(script) && script.includes('"kind":"Lease"')) log.push('lease write');
    },
  });
}

test("GIVEN an upgrade WHEN its lease is taken THEN the runner's sessions into the controller and the first node are already opening, and the runner uses them", async () => {
  const w = await makeWorld({ workers: 2 });
  try {
    const op = operator(w, 'ahead');
    const log: string[] = [];
    const conn = { ...op.conn, shells: new Map([...op.conn.shells].map(([h, s]) => [h, logging(s, log)] as const)) };
    const r = await upgradeBy({ ...op, conn, env: (extra) => ({ ...op.env(extra), shells: conn.shells }) });
    assert.equal(r.ok, true, JSON.stringify(r.failed?.error.message));
    const controller = w.inventory.nodes.find((n) => n.name === w.inventory.controller)!;
    const first = r.completed[0]!;
    assert.notEqual(first.vmid, controller.vmid, 'a worker goes first');
    const firstWrite = log.indexOf('lease write');
    assert.ok(firstWrite > 0, log.join(', '));
    assert.ok(
      log.indexOf(`open ${first.vmid}`) < firstWrite,
      `the first node's session opens before the lease is written: ${log.join(', ')}`,
    );
    assert.ok(
      log.slice(0, firstWrite).filter((x) => x === `open ${controller.vmid}`).length >= 2,
      `the runner's and the guard's: ${log.join(', ')}`,
    );
    for (const n of w.inventory.nodes.filter((x) => x.vmid !== controller.vmid))
      assert.equal(log.filter((x) => x === `open ${n.vmid}`).length, 1, `${n.name} entered once: ${log.join(', ')}`);
    // The guard's session, the runner's and its spare (opened when the first was taken).
    assert.ok(log.filter((x) => x === `open ${controller.vmid}`).length <= 3, log.join(', '));
  } finally {
    await w.close();
  }
});
