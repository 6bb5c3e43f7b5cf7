import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainProgress, ttyProgress } from '../../src/cli/progress.js';
import { planUpgrade } from '../../src/upgrade/plan/planner.js';
import { planSteps } from '../../src/domain/plan.js';
import { parseVersion } from '../../src/domain/version.js';
import { RunError } from '../../src/domain/errors.js';
import { facts, labLike } from '../helpers/facts.js';

const plan = planUpgrade(
  { ...facts(labLike('v1.33.3+k3s1')), cluster: 'lab' },
  { version: parseVersion('v1.33.5+k3s1'), source: 'channel stable' },
);
const steps = planSteps(plan);

test('GIVEN runner events WHEN rendered as plain lines THEN each line is timestamped and says node and step; waits are throttled', () => {
  const out: string[] = [];
  const p = plainProgress((s) => out.push(s), { waitEveryMs: 5_000 });
  p.emit({ kind: 'phase-start', phase: plan.phases[0]!, index: 0, total: 1 });
  p.emit({ kind: 'step-start', step: steps[1]!, index: 1, total: 14 });
  for (const ms of [1000, 4000, 5200, 9000, 10400])
    p.emit({ kind: 'wait', step: steps[1]!, message: 'NotReady, kubelet v1.33.3+k3s1', elapsedMs: ms });
  p.emit({ kind: 'step-done', step: steps[1]!, ms: 2500, note: 'role agent kept' });
  p.emit({ kind: 'step-failed', step: steps[2]!, error: new RunError('boom', { node: 'k3s-worker-1', step: steps[2]!.id }) });
  const text = out.join('').replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ /gm, 'T ');
  assert.equal(
    text,
    [
      'T phase 1/1: patch upgrade to v1.33.5+k3s1 (workers-first)',
      'T [2/14] k3s-worker-1: install v1.33.5+k3s1',
      'T k3s-worker-1: still waiting (5.2s): NotReady, kubelet v1.33.3+k3s1',
      'T k3s-worker-1: still waiting (10s): NotReady, kubelet v1.33.3+k3s1',
      'T        k3s-worker-1: install done (2.5s): role agent kept',
      'T k3s-worker-1: wait Ready FAILED: boom',
      '',
    ].join('\n'),
  );
});

test('GIVEN a terminal WHEN the live task list renders THEN one line per node shows its state', async () => {
  let screen = '';
  const stream = Object.assign(Object.create(process.stderr) as NodeJS.WriteStream, {
    isTTY: true,
    columns: 120,
    rows: 40,
    write(chunk: string) {
      screen += chunk;
      return true;
    },
  });
  const p = await ttyProgress(plan, stream);
  p.emit({ kind: 'step-start', step: steps[0]!, index: 0, total: 14 });
  for (const s of steps.slice(0, 4)) p.emit({ kind: 'step-done', step: s, ms: 100 });
  p.emit({ kind: 'step-start', step: steps[5]!, index: 5, total: 14 });
  p.emit({ kind: 'wait', step: steps[5]!, message: 'NotReady', elapsedMs: 300 });
  p.stop();
  // The last frame, colours removed.
  const frames = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('Upgrading lab');
  const last = frames[frames.length - 1]!;
  const clean = last.replace(/ \d+\.\ds/g, '');
  assert.match(clean, /^ to v1\.33\.5\+k3s1\n/);
  assert.match(clean, /\n  ✔ k3s-worker-1  done in\n/);
  assert.match(clean, /\n  . k3s-worker-2  install v1\.33\.5\+k3s1 — NotReady\n/);
  assert.match(clean, /\n  ○ k3s-worker-3\n/);
  assert.match(clean, /\n  ○ k3s-ctrl-1  ?\n/);
});
