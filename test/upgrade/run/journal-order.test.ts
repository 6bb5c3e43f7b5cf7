/**
 * The runner journals every step the plan has, at the moment it happens: a worker's uncordon,
 * sent in the round trip of its health gate, is recorded as started before that round trip
 * and as done after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initLab, renderLabInventory } from '../../../src/lab/index.js';
import { parseInventory } from '../../../src/inventory/index.js';
import { gatherFacts } from '../../../src/upgrade/facts/gather.js';
import { planUpgrade } from '../../../src/upgrade/plan/planner.js';
import { runPlan } from '../../../src/upgrade/run/run-plan.js';
import { planSteps } from '../../../src/domain/plan.js';
import { parseVersion } from '../../../src/domain/version.js';
import type { JournalRecord } from '../../../src/operation/journal.js';
import type { Shell } from '../../../src/shell/shell.js';
import { watching } from '../../helpers/watch-shell.js';
import { FAST_TIMING } from '../../helpers/lab-cli.js';

/** Logs every script sent to a container that uncordons a node, into the same list as the journal. */
function logging(inner: Shell, log: string[]): Shell {
  return watching(inner, {
    sent: (script) => {
      const m = /kubectl uncordon (\S+)/.exec(script);
      if (m) log.push(`sent uncordon ${m[1]}`);
    },
  });
}

test('GIVEN a patch upgrade on the lab WHEN run THEN each worker journals gate start, uncordon start, the round trip, gate done, uncordon done; every planned step once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-journal-order-'));
  try {
    const lab = await initLab({ dir: join(dir, 'lab'), timing: FAST_TIMING });
    const inventory = parseInventory(renderLabInventory(lab), join(dir, 'pve-k3s.yaml'));
    const log: string[] = [];
    const shells = new Map(inventory.hosts.map((h) => [h.name, logging(lab.shell(h.name), log)]));
    const plan = planUpgrade(await gatherFacts(inventory, shells), { version: parseVersion('v1.33.5+k3s1'), source: 'test' });
    const records: JournalRecord[] = [];
    const journal = {
      append: (r: JournalRecord) => {
        records.push(r);
        if (r.type === 'step-start' || r.type === 'step-done') log.push(`${r.type} ${r.step}`);
      },
    };
    const result = await runPlan(plan, { inventory, shells, journal: { journal, run: 'r1' }, poll: { minMs: 10, maxMs: 50 } });
    assert.equal(result.ok, true, result.failed?.error.message);
    const w = 'k3s-worker-1';
    const at = (line: string) => log.indexOf(line);
    assert.ok(at(`step-start 1/${w}/wait-ready`) < at(`step-start 1/${w}/uncordon`), log.join('\n'));
    assert.ok(at(`step-start 1/${w}/uncordon`) < at(`sent uncordon ${w}`), log.join('\n'));
    assert.ok(at(`sent uncordon ${w}`) < at(`step-done 1/${w}/wait-ready`), log.join('\n'));
    assert.ok(at(`step-done 1/${w}/wait-ready`) < at(`step-done 1/${w}/uncordon`), log.join('\n'));
    // One uncordon round trip per worker: the one of its gate.
    assert.equal(log.filter((l) => l === `sent uncordon ${w}`).length, 1);
    // Every step of the plan is journaled once as started and once as done, in the plan's order.
    const ids = planSteps(plan).map((s) => s.id);
    const started = records.filter((r) => r.type === 'step-start').map((r) => (r as { step: string }).step);
    const done = records.filter((r) => r.type === 'step-done').map((r) => (r as { step: string }).step);
    assert.deepEqual(started, ids);
    assert.deepEqual(done, ids);
    const note = records.find((r) => r.type === 'step-done' && r.step === `1/${w}/uncordon`);
    assert.equal((note as { note?: string }).note, 'in the round trip of its health gate');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
