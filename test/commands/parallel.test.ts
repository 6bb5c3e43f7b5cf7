/** --parallel: several workers at once, never more than the cluster can spare; servers alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeGroups, segments } from '../../src/upgrade/run/run-plan.js';
import { DEFAULT_POLICY, planUpgrade } from '../../src/upgrade/plan/planner.js';
import { parseVersion } from '../../src/domain/version.js';
import { facts, labLike } from '../helpers/facts.js';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';

cliInProcess();

test('GIVEN a patch plan WHEN split into segments THEN the workers form one run that may overlap and the controller goes alone', () => {
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), { version: parseVersion('v1.33.5+k3s1'), source: 'test' });
  const b = segments(nodeGroups(plan.phases[0]!.steps)).map((seg) => seg.map((g) => g[0]!.node));
  assert.deepEqual(b, [['k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3'], ['k3s-ctrl-1']]);
  assert.ok(nodeGroups(plan.phases[0]!.steps).every((g) => g.every((s) => s.node === g[0]!.node)));
});

test('GIVEN a minor plan WHEN split into segments THEN the server still goes first and alone', () => {
  const plan = planUpgrade(facts(labLike('v1.32.9+k3s1')), { version: parseVersion('v1.33.5+k3s1'), source: 'test' });
  const b = segments(nodeGroups(plan.phases[0]!.steps)).map((seg) => seg.map((g) => g[0]!.node));
  assert.deepEqual(b, [['k3s-ctrl-1'], ['k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']]);
});

test('GIVEN three workers WHEN upgrade --parallel 5 runs THEN it is lowered to 2, two workers overlap, and all reach the target', async () => {
  const f = await labFixture({});
  try {
    const r = await f.cli(['upgrade', '--yes', '--parallel', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --parallel 5 lowered to 2: 3 schedulable worker\(s\), and one must stay up to take the pods/);
    // worker-2 starts draining before worker-1 is uncordoned.
    const lines = r.stderr.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/\] k3s-worker-2: drain$/) < at(/\] k3s-worker-1: uncordon$/), r.stderr);
    // A window of 2: worker-3 starts when the first of them is done, before the controller.
    const firstDone = Math.min(at(/k3s-worker-1: uncordon done/), at(/k3s-worker-2: uncordon done/));
    assert.ok(at(/\] k3s-worker-3: drain$/) > firstDone, r.stderr);
    assert.ok(at(/\] k3s-ctrl-1: install/) > Math.max(at(/k3s-worker-2: uncordon done/), at(/k3s-worker-3: uncordon done/)), r.stderr);
    assert.deepEqual(
      new Set(
        f.lab
          .summary()
          .filter((n) => n.role)
          .map((n) => n.kubelet),
      ),
      new Set(['v1.33.5+k3s1']),
    );
    assert.ok(f.lab.summary().every((n) => n.schedulable !== false));
  } finally {
    f.cleanup();
  }
});

test('GIVEN --parallel 0 WHEN upgrade runs THEN it is a usage error', async () => {
  const f = await labFixture({});
  try {
    const r = await f.cli(['upgrade', '--yes', '--parallel', '0']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: --parallel must be a whole number from 1 to 100, got "0"\n');
  } finally {
    f.cleanup();
  }
});

test('GIVEN a canary and --parallel 2 WHEN split into segments THEN the canary goes alone before the other workers overlap', () => {
  const plan = planUpgrade(
    facts(labLike('v1.33.3+k3s1')),
    { version: parseVersion('v1.33.5+k3s1'), source: 'test' },
    { ...DEFAULT_POLICY, parallel: 2, canary: 'k3s-worker-3' },
  );
  const b = segments(nodeGroups(plan.phases[0]!.steps), plan.policy?.canary?.node).map((seg) => seg.map((g) => g[0]!.node));
  assert.deepEqual(b, [['k3s-worker-3'], ['k3s-worker-1', 'k3s-worker-2'], ['k3s-ctrl-1']]);
});

test('GIVEN a canary and --parallel 2 WHEN upgrade runs THEN no other worker drains until the canary has passed its soak', async () => {
  const f = await labFixture({});
  try {
    const r = await f.cli(['upgrade', '--yes', '--parallel', '2', '--canary', 'k3s-worker-3', '--canary-soak', '1s']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const canaryDone = at(/k3s-worker-3: soak done/);
    assert.ok(canaryDone > 0, r.stderr);
    assert.ok(at(/\] k3s-worker-1: drain$/) > canaryDone, r.stderr);
    assert.ok(at(/\] k3s-worker-2: drain$/) > canaryDone, r.stderr);
    // After the canary the two others still overlap.
    assert.ok(at(/\] k3s-worker-2: drain$/) < at(/\] k3s-worker-1: uncordon$/), r.stderr);
  } finally {
    f.cleanup();
  }
});
