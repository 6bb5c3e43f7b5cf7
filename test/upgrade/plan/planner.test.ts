import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planUpgrade, DEFAULT_POLICY, type PlanPolicy } from '../../../src/upgrade/plan/planner.js';
import { planSteps, type UpgradePlan } from '../../../src/domain/plan.js';
import { parseVersion } from '../../../src/domain/version.js';
import { parseChannels } from '../../../src/channel/channels.js';
import { type PlanError } from '../../../src/domain/errors.js';
import { facts, labLike } from '../../helpers/facts.js';
import { fixture } from '../../helpers/fixtures.js';

const channels = parseChannels(fixture('channels.json'), 'https://update.k3s.io/v1-release/channels');
const target = (v: string) => ({ version: parseVersion(v), source: 'channel stable' });
const ids = (p: UpgradePlan) => planSteps(p).map((s) => s.id);
const policy = (p: Partial<PlanPolicy> = {}): PlanPolicy => ({ ...DEFAULT_POLICY, ...p });

test('GIVEN a patch upgrade of one controller and three workers WHEN planned THEN workers go first one by one, then the controller without drain', () => {
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), target('v1.33.5+k3s1'));
  assert.deepEqual(ids(plan), [
    '1/k3s-worker-1/drain',
    '1/k3s-worker-1/install',
    '1/k3s-worker-1/wait-ready',
    '1/k3s-worker-1/uncordon',
    '1/k3s-worker-2/drain',
    '1/k3s-worker-2/install',
    '1/k3s-worker-2/wait-ready',
    '1/k3s-worker-2/uncordon',
    '1/k3s-worker-3/drain',
    '1/k3s-worker-3/install',
    '1/k3s-worker-3/wait-ready',
    '1/k3s-worker-3/uncordon',
    '1/k3s-ctrl-1/install',
    '1/k3s-ctrl-1/wait-ready',
  ]);
  assert.equal(plan.phases[0]!.order, 'workers-first');
  assert.equal(plan.phases[0]!.minor, false);
  assert.equal(plan.apiVersion, 'pve-k3s.io/v2');
  assert.equal(plan.kind, 'UpgradePlan');
});

test('GIVEN every node at the target WHEN planned THEN there is nothing to do', () => {
  const plan = planUpgrade(facts(labLike('v1.33.5+k3s1')), target('v1.33.5+k3s1'));
  assert.deepEqual(ids(plan), []);
  assert.ok(plan.nodes.every((n) => n.action === 'none'));
});

test('GIVEN only some nodes behind WHEN planned THEN only those are touched', () => {
  const nodes = labLike('v1.33.5+k3s1');
  nodes[2]!.version = 'v1.33.3+k3s1';
  const plan = planUpgrade(facts(nodes), target('v1.33.5+k3s1'));
  assert.deepEqual([...new Set(planSteps(plan).map((s) => s.node))], ['k3s-worker-2']);
});

test('GIVEN a minor upgrade WHEN planned with order auto THEN the server goes first and is drained (workers can take its pods)', () => {
  const plan = planUpgrade(facts(labLike('v1.32.9+k3s1')), target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, channels });
  assert.equal(plan.phases.length, 1);
  assert.equal(plan.phases[0]!.order, 'servers-first');
  assert.equal(plan.phases[0]!.minor, true);
  assert.deepEqual(ids(plan).slice(0, 4), [
    '1/k3s-ctrl-1/drain',
    '1/k3s-ctrl-1/install',
    '1/k3s-ctrl-1/wait-ready',
    '1/k3s-ctrl-1/uncordon',
  ]);
});

test('GIVEN a minor upgrade WHEN workers-first is forced THEN the plan is refused for skew, naming the kubelet and the apiserver', () => {
  assert.throws(
    () => planUpgrade(facts(labLike('v1.32.9+k3s1')), target('v1.33.5+k3s1'), { ...policy({ order: 'workers-first' }), channels }),
    (e: PlanError) => {
      assert.equal(e.reason, 'skew');
      assert.equal(
        e.message,
        'refusing a plan that breaks the Kubernetes version skew policy: after upgrading k3s-worker-1, the kubelet on k3s-worker-1 (v1.33) would be newer than the apiserver on k3s-ctrl-1 (v1.32)',
      );
      assert.equal(e.hint, 'use --order auto (servers first for minor upgrades), or --allow-skew if you accept the risk');
      return true;
    },
  );
  const allowed = planUpgrade(facts(labLike('v1.32.9+k3s1')), target('v1.33.5+k3s1'), {
    ...policy({ order: 'workers-first', allowSkew: true }),
    channels,
  });
  assert.equal(allowed.phases[0]!.order, 'workers-first');
  assert.ok(allowed.warnings.some((w) => w.startsWith('version skew allowed by --allow-skew')));
});

test('GIVEN a cluster two minors behind WHEN planned THEN it steps through the latest v1.NN release, servers first each time', () => {
  const plan = planUpgrade(facts(labLike('v1.31.4+k3s1')), target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, channels });
  assert.deepEqual(
    plan.phases.map((p) => p.version),
    ['v1.32.9+k3s1', 'v1.33.5+k3s1'],
  );
  assert.ok(plan.phases.every((p) => p.order === 'servers-first' && p.steps[0]!.node === 'k3s-ctrl-1'));
  assert.deepEqual(
    plan.nodes.map((n) => n.to),
    Array(4).fill('v1.33.5+k3s1'),
  );
});

test('GIVEN a cluster three minors behind WITHOUT channel data WHEN planned THEN it refuses to skip a minor', () => {
  assert.throws(
    () => planUpgrade(facts(labLike('v1.30.4+k3s1')), target('v1.33.5+k3s1')),
    (e: PlanError) => {
      assert.equal(e.reason, 'no-intermediate-release');
      assert.match(e.message, /^the cluster runs v1\.30 and the target is v1\.33\.5\+k3s1: minor versions cannot be skipped/);
      return true;
    },
  );
});

test('GIVEN a node newer than the target WHEN planned THEN the downgrade is refused', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[1]!.version = 'v1.34.1+k3s1';
  assert.throws(
    () => planUpgrade(facts(nodes), target('v1.33.5+k3s1')),
    (e: PlanError) => {
      assert.equal(e.reason, 'downgrade');
      assert.equal(e.message, 'node k3s-worker-1 runs v1.34.1+k3s1, newer than the target v1.33.5+k3s1; pve-k3s never downgrades');
      return true;
    },
  );
});

test('GIVEN a stopped container WHEN planned THEN the plan is refused with the command that fixes it', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[3]!.container = 'stopped';
  assert.throws(
    () => planUpgrade(facts(nodes), target('v1.33.5+k3s1')),
    (e: PlanError) => {
      assert.equal(e.message, 'node k3s-worker-3: container 103 on pve2 is stopped');
      assert.equal(e.hint, 'start it (pct start 103 on pve2) and run again, or remove the node from the inventory');
      return true;
    },
  );
});

test('GIVEN three servers WHEN a patch upgrade is planned THEN servers go one at a time, each drained, controller last', () => {
  const nodes = [
    { name: 'k3s-server-1', role: 'server' as const, version: 'v1.33.3+k3s1' },
    { name: 'k3s-server-2', role: 'server' as const, version: 'v1.33.3+k3s1' },
    { name: 'k3s-server-3', role: 'server' as const, version: 'v1.33.3+k3s1' },
    { name: 'k3s-worker-1', version: 'v1.33.3+k3s1' },
  ];
  const plan = planUpgrade(facts(nodes, 'k3s-server-1'), target('v1.33.5+k3s1'));
  const serverInstalls = planSteps(plan)
    .filter((s) => s.role === 'server' && s.kind === 'install')
    .map((s) => s.node);
  assert.deepEqual(serverInstalls, ['k3s-server-2', 'k3s-server-3', 'k3s-server-1']);
  assert.ok(planSteps(plan).filter((s) => s.role === 'server' && s.kind === 'drain').length === 3);
});

test('GIVEN a node cordoned by someone else WHEN planned THEN it is drained but stays cordoned', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[1]!.schedulable = false;
  const plan = planUpgrade(facts(nodes), target('v1.33.5+k3s1'));
  assert.ok(!ids(plan).includes('1/k3s-worker-1/uncordon'));
  assert.ok(ids(plan).includes('1/k3s-worker-1/drain'));
  assert.equal(plan.nodes.find((n) => n.node === 'k3s-worker-1')!.staysCordoned, true);
});

test('GIVEN a node left cordoned by an interrupted run and already upgraded WHEN planned THEN it is waited for and uncordoned first', () => {
  const nodes = labLike('v1.33.5+k3s1');
  nodes[1]!.schedulable = false;
  nodes[1]!.cordonedByUs = 'v1.33.5+k3s1';
  nodes[2]!.version = 'v1.33.3+k3s1';
  const plan = planUpgrade(facts(nodes), target('v1.33.5+k3s1'));
  assert.deepEqual(ids(plan).slice(0, 3), ['0/k3s-worker-1/wait-ready', '0/k3s-worker-1/uncordon', '1/k3s-worker-2/drain']);
});

test('GIVEN a node whose binary is new but whose kubelet is old WHEN planned THEN it is restarted, not reinstalled', () => {
  const nodes = labLike('v1.33.5+k3s1');
  nodes[2]!.kubelet = 'v1.33.3+k3s1';
  const plan = planUpgrade(facts(nodes), target('v1.33.5+k3s1'));
  assert.deepEqual(ids(plan), ['1/k3s-worker-2/restart', '1/k3s-worker-2/wait-ready']);
});

test('GIVEN an inventory role that differs from the node WHEN planned THEN it is refused', () => {
  const f = facts(labLike('v1.33.3+k3s1'));
  f.nodes[1]!.kube!.k3sRole = 'server';
  assert.throws(() => planUpgrade(f, target('v1.33.5+k3s1')), /node k3s-worker-1: the inventory says agent but the node runs k3s server/);
});

test('GIVEN several problems WHEN planned THEN all are listed in the detail', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[1]!.container = 'stopped';
  nodes[2]!.registered = false;
  assert.throws(
    () => planUpgrade(facts(nodes), target('v1.33.5+k3s1')),
    (e: PlanError) => {
      assert.match(e.message, /\(and 1 more problem\)$/);
      assert.equal(e.detail?.split('\n').filter((l) => l.startsWith('- ')).length, 2);
      return true;
    },
  );
});

test('GIVEN the same facts WHEN planned twice THEN the plans are identical (deterministic)', () => {
  const f = facts(labLike('v1.31.4+k3s1'));
  assert.deepEqual(
    planUpgrade(f, target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, channels }),
    planUpgrade(f, target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, channels }),
  );
});
