/** Node selection and the canary in the planner: --node, --exclude, `upgrade: false`, --canary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planUpgrade, DEFAULT_POLICY, type PlanPolicy } from '../../../src/upgrade/plan/planner.js';
import { planSteps } from '../../../src/domain/plan.js';
import { parseVersion } from '../../../src/domain/version.js';
import { parseChannels } from '../../../src/channel/channels.js';
import { PlanError } from '../../../src/domain/errors.js';
import { facts, labLike, type NodeSketch } from '../../helpers/facts.js';
import { fixture } from '../../helpers/fixtures.js';

const channels = parseChannels(fixture('channels.json'), 'https://update.k3s.io/v1-release/channels');

function plan(nodes: NodeSketch[], target: string, p: Partial<PlanPolicy> = {}) {
  return planUpgrade(facts(nodes), { version: parseVersion(target), source: 'test' }, { ...DEFAULT_POLICY, ...p, channels });
}
function refusal(fn: () => unknown): PlanError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PlanError) return e;
    throw e;
  }
  assert.fail('expected a PlanError');
}
const touched = (p: ReturnType<typeof plan>) => [...new Set(planSteps(p).map((s) => s.node))];

test('GIVEN --node k3s-worker-2 on a patch upgrade WHEN planned THEN only that worker gets steps and the others are held, not selected', () => {
  const p = plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { selection: { only: ['k3s-worker-2'] } });
  assert.deepEqual(touched(p), ['k3s-worker-2']);
  assert.deepEqual(
    p.nodes.map((n) => [n.node, n.action, n.held ?? null]),
    [
      ['k3s-ctrl-1', 'none', 'not-selected'],
      ['k3s-worker-1', 'none', 'not-selected'],
      ['k3s-worker-2', 'upgrade', null],
      ['k3s-worker-3', 'none', 'not-selected'],
    ],
  );
});

test('GIVEN --exclude and upgrade: false WHEN planned THEN those nodes keep their version and say why', () => {
  const p = plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { selection: { exclude: ['k3s-worker-1'], held: ['k3s-worker-3'] } });
  assert.deepEqual(touched(p), ['k3s-worker-2', 'k3s-ctrl-1']);
  assert.equal(p.nodes.find((n) => n.node === 'k3s-worker-1')?.held, 'excluded');
  assert.equal(p.nodes.find((n) => n.node === 'k3s-worker-3')?.held, 'inventory');
  assert.equal(p.nodes.find((n) => n.node === 'k3s-worker-3')?.to, 'v1.33.3+k3s1');
});

test('GIVEN upgrade: false on a node WHEN --node names it THEN the explicit choice wins', () => {
  const p = plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { selection: { only: ['k3s-worker-3'], held: ['k3s-worker-3'] } });
  assert.deepEqual(touched(p), ['k3s-worker-3']);
});

test('GIVEN a minor upgrade WHEN only the workers are selected THEN it is refused, naming the controller that must come along', () => {
  const e = refusal(() =>
    plan(labLike('v1.33.5+k3s1'), 'v1.34.1+k3s1', { selection: { only: ['k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3'] } }),
  );
  assert.equal(e.reason, 'selection');
  assert.equal(
    e.message,
    'refusing this selection: it breaks the Kubernetes version skew policy: after upgrading k3s-worker-1, the kubelet on k3s-worker-1 (v1.34) would be newer than the apiserver on k3s-ctrl-1 (v1.33); this node must come along: k3s-ctrl-1',
  );
  assert.equal(e.hint, 'add them (--node k3s-ctrl-1), or --allow-skew if you accept the risk');
});

test('GIVEN upgrade: false on the controller WHEN a minor upgrade is planned THEN the hint says to drop it there', () => {
  const e = refusal(() => plan(labLike('v1.33.5+k3s1'), 'v1.34.1+k3s1', { selection: { held: ['k3s-ctrl-1'] } }));
  assert.equal(e.reason, 'selection');
  assert.equal(e.hint, 'add them (drop `upgrade: false` from k3s-ctrl-1), or --allow-skew if you accept the risk');
});

test('GIVEN three servers two minors behind WHEN one server is selected THEN the other two must come along', () => {
  const nodes: NodeSketch[] = [
    { name: 's1', role: 'server', version: 'v1.32.9+k3s1' },
    { name: 's2', role: 'server', version: 'v1.32.9+k3s1' },
    { name: 's3', role: 'server', version: 'v1.32.9+k3s1' },
  ];
  const e = refusal(() => plan(nodes, 'v1.34.1+k3s1', { selection: { only: ['s1'] } }));
  assert.equal(e.reason, 'selection');
  assert.match(e.message, /these nodes must come along: s2, s3$/);
  // Selecting them makes a plan.
  assert.deepEqual(touched(plan(nodes, 'v1.34.1+k3s1', { selection: { only: ['s1', 's2', 's3'] } })).sort(), ['s1', 's2', 's3']);
});

test('GIVEN a refused selection WHEN --allow-skew THEN it plans, warning about the skew', () => {
  const p = plan(labLike('v1.33.5+k3s1'), 'v1.34.1+k3s1', { selection: { only: ['k3s-worker-1'] }, allowSkew: true });
  assert.deepEqual(touched(p), ['k3s-worker-1']);
  assert.ok(p.warnings.some((w) => w.startsWith('version skew allowed by --allow-skew: after upgrading k3s-worker-1')));
});

test('GIVEN a servers-only selection on a minor upgrade WHEN planned THEN it is accepted (agents may lag behind)', () => {
  const p = plan(labLike('v1.33.5+k3s1'), 'v1.34.1+k3s1', { selection: { only: ['k3s-ctrl-1'] } });
  assert.deepEqual(touched(p), ['k3s-ctrl-1']);
});

test('GIVEN a held node whose container is stopped WHEN planned THEN it is a warning, not a refusal', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[3] = { ...nodes[3]!, container: 'stopped' };
  const p = plan(nodes, 'v1.33.5+k3s1', { selection: { exclude: ['k3s-worker-3'] } });
  assert.deepEqual(touched(p), ['k3s-worker-1', 'k3s-worker-2', 'k3s-ctrl-1']);
  assert.ok(
    p.warnings.some((w) => w.includes('k3s-worker-3') && w.includes('held back by --exclude')),
    p.warnings.join('\n'),
  );
  assert.equal(p.nodes.find((n) => n.node === 'k3s-worker-3')?.held, 'excluded');
});

test('GIVEN unknown names WHEN selected THEN the refusal lists the nodes there are', () => {
  const e = refusal(() => plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { selection: { only: ['k3s-worker-9'], exclude: ['nope'] } }));
  assert.equal(e.reason, 'selection');
  assert.equal(e.message, 'no node named "k3s-worker-9", "nope" in the inventory');
  assert.equal(e.hint, 'nodes: k3s-ctrl-1, k3s-worker-1, k3s-worker-2, k3s-worker-3');
});

test('GIVEN every node excluded WHEN planned THEN it says nothing is left', () => {
  const e = refusal(() =>
    plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { selection: { held: ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3'] } }),
  );
  assert.equal(e.message, 'the selection leaves no node to upgrade');
});

test('GIVEN a node cordoned by an earlier run WHEN it is held back THEN it is not uncordoned, and a warning says so', () => {
  const nodes = labLike('v1.33.5+k3s1');
  nodes[2] = { ...nodes[2]!, schedulable: false, cordonedByUs: 'v1.33.5+k3s1' };
  const p = plan(nodes, 'v1.33.5+k3s1', { selection: { exclude: ['k3s-worker-2'] } });
  assert.deepEqual(planSteps(p), []);
  assert.ok(p.warnings.some((w) => w.startsWith('k3s-worker-2 is still cordoned by an earlier pve-k3s run and is held back')));
});

test('GIVEN --canary k3s-worker-3 on a patch upgrade WHEN planned THEN it goes first and the plan records it', () => {
  const p = plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { canary: 'k3s-worker-3' });
  assert.deepEqual(touched(p), ['k3s-worker-3', 'k3s-worker-1', 'k3s-worker-2', 'k3s-ctrl-1']);
  assert.deepEqual(p.policy, { canary: { node: 'k3s-worker-3' } });
});

test('GIVEN --canary on a worker WHEN the upgrade is a minor one THEN it is refused: servers go first', () => {
  const e = refusal(() => plan(labLike('v1.33.5+k3s1'), 'v1.34.1+k3s1', { canary: 'k3s-worker-1' }));
  assert.equal(e.reason, 'canary');
  assert.match(e.message, /^--canary k3s-worker-1 cannot go first: after upgrading k3s-worker-1, the kubelet/);
});

test('GIVEN --canary on a server of three WHEN a minor upgrade is planned THEN that server goes first', () => {
  const nodes: NodeSketch[] = [
    { name: 's1', role: 'server', version: 'v1.33.5+k3s1' },
    { name: 's2', role: 'server', version: 'v1.33.5+k3s1' },
    { name: 's3', role: 'server', version: 'v1.33.5+k3s1' },
    { name: 'a1', version: 'v1.33.5+k3s1' },
  ];
  const p = plan(nodes, 'v1.34.1+k3s1', { canary: 's3' });
  assert.deepEqual(touched(p), ['s3', 's2', 's1', 'a1']);
});

test('GIVEN a canary that is held back or unknown WHEN planned THEN it is refused', () => {
  assert.equal(
    refusal(() => plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { canary: 'k3s-worker-1', selection: { exclude: ['k3s-worker-1'] } }))
      .message,
    '--canary k3s-worker-1: that node is held back (--exclude)',
  );
  assert.equal(refusal(() => plan(labLike('v1.33.3+k3s1'), 'v1.33.5+k3s1', { canary: 'x' })).reason, 'canary');
});

test('GIVEN a canary already at the target WHEN planned THEN there is no canary, and a warning says so', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[1] = { ...nodes[1]!, version: 'v1.33.5+k3s1' };
  const p = plan(nodes, 'v1.33.5+k3s1', { canary: 'k3s-worker-1' });
  assert.equal(p.policy, undefined);
  assert.ok(p.warnings.some((w) => w.startsWith('the canary k3s-worker-1 has nothing to do in this plan')));
});
