/** What the plan says beyond order and versions: each phase's concurrency, and the health gates a resume needs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parallelWarning, planUpgrade, DEFAULT_POLICY } from '../../../src/upgrade/plan/planner.js';
import { planSteps } from '../../../src/domain/plan.js';
import { parseVersion } from '../../../src/domain/version.js';
import { facts, labLike } from '../../helpers/facts.js';

const target = { version: parseVersion('v1.33.5+k3s1'), source: 'test' };

test('GIVEN three workers WHEN planned with parallel 5 THEN each phase runs 2 workers at once and the warning says why', () => {
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), target, { ...DEFAULT_POLICY, parallel: 5 });
  assert.deepEqual(
    plan.phases.map((p) => p.concurrency),
    [2],
  );
  assert.equal(parallelWarning(plan, 5), '--parallel 5 lowered to 2: 3 schedulable worker(s), and one must stay up to take the pods');
  assert.equal(parallelWarning(plan, 2), undefined);
});

test('GIVEN the default policy WHEN planned THEN workers go one at a time', () => {
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), target);
  assert.deepEqual(
    plan.phases.map((p) => p.concurrency),
    [1],
  );
});

test('GIVEN a worker cordoned by someone else WHEN planned with parallel 3 THEN it does not count as one that takes pods', () => {
  const nodes = labLike('v1.33.3+k3s1').map((n) => (n.name === 'k3s-worker-3' ? { ...n, schedulable: false } : n));
  const plan = planUpgrade(facts(nodes), target, { ...DEFAULT_POLICY, parallel: 3 });
  assert.deepEqual(
    plan.phases.map((p) => p.concurrency),
    [1],
  );
  assert.equal(parallelWarning(plan, 3), '--parallel 3 lowered to 1: 2 schedulable worker(s), and one must stay up to take the pods');
});

test('GIVEN a node an interrupted run left unconfirmed and now at the target WHEN planned THEN its health gate comes first, in a phase of its own', () => {
  const f = facts(labLike('v1.33.3+k3s1').map((n) => (n.name === 'k3s-worker-1' ? { ...n, version: 'v1.33.5+k3s1' } : n)));
  const plan = planUpgrade({ ...f, unconfirmed: ['k3s-worker-1', 'k3s-worker-2', 'no-such-node'] }, target);
  assert.deepEqual(
    plan.phases[0]!.steps.map((s) => s.id),
    ['0/k3s-worker-1/wait-ready'],
  );
  assert.equal(plan.phases[0]!.steps[0]!.version, 'v1.33.5+k3s1');
  // worker-2 is upgraded anyway: its own gate comes in its phase.
  assert.equal(planSteps(plan).filter((s) => s.node === 'k3s-worker-2' && s.kind === 'wait-ready').length, 1);
});
