import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHeartbeats } from '../../src/cli/heartbeat.js';
import { plainProgress } from '../../src/cli/progress.js';
import type { RunEvent } from '../../src/domain/events.js';
import type { Step } from '../../src/domain/plan.js';

const STEP: Step = {
  id: 'k3s-worker-2/install',
  kind: 'install',
  node: 'k3s-worker-2',
  vmid: 102,
  host: 'pve2',
  role: 'agent',
  version: 'v1.33.5+k3s1',
};

test('GIVEN a step running longer than the heartbeat period WHEN time passes THEN a heartbeat with elapsed time and its last words; none after it ends', async () => {
  let t = 0;
  const seen: RunEvent[] = [];
  const hb = withHeartbeats((e) => seen.push(e), { everyMs: 100, now: () => t });
  try {
    hb.emit({ kind: 'step-start', step: STEP, index: 0, total: 1 });
    hb.emit({ kind: 'wait', step: STEP, message: 'NotReady, kubelet v1.33.3+k3s1', elapsedMs: 0 });
    t = 50;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(seen.filter((e) => e.kind === 'heartbeat').length, 0, 'not before the period');
    t = 130;
    await new Promise((r) => setTimeout(r, 40));
    const beats = seen.filter((e) => e.kind === 'heartbeat');
    assert.deepEqual(beats, [{ kind: 'heartbeat', step: STEP, elapsedMs: 130, last: 'NotReady, kubelet v1.33.3+k3s1' }]);
    hb.emit({ kind: 'step-done', step: STEP, ms: 140 });
    t = 1000;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(seen.filter((e) => e.kind === 'heartbeat').length, 1, 'none after the step ended');
  } finally {
    hb.stop();
  }
});

test('GIVEN a heartbeat WHEN rendered plain THEN one line: node, step, elapsed in human units, last words', () => {
  let out = '';
  const p = plainProgress((s) => (out += s));
  p.emit({ kind: 'heartbeat', step: STEP, elapsedMs: 95_000, last: 'downloading k3s' });
  assert.match(out, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ k3s-worker-2: install still running \(1m35s\): downloading k3s\n$/);
});
