/** The plan as system-upgrade-controller Plans (src/upgrade/suc/plans.ts), checked against SUC's Plan CRD schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments, stringify } from 'yaml';
import { planUpgrade, DEFAULT_POLICY } from '../../../src/upgrade/plan/planner.js';
import { parseVersion } from '../../../src/domain/version.js';
import { parseChannels } from '../../../src/channel/channels.js';
import { DEFAULT_DRAIN } from '../../../src/inventory/defaults.js';
import type { DrainPolicy } from '../../../src/inventory/types.js';
import { sucPlans, sucPlansYaml, sucPlanList, sucPlanName, drainSpec, type SucPlan } from '../../../src/upgrade/suc/plans.js';
import { facts, labLike } from '../../helpers/facts.js';
import { fixture } from '../../helpers/fixtures.js';
import { validate, type Schema } from '../../helpers/crd-schema.js';

const crd = JSON.parse(fixture('suc-plan-crd.json')) as { sucVersion: string; openAPIV3Schema: Schema };
const channels = parseChannels(fixture('channels.json'), 'https://update.k3s.io/v1-release/channels');
const target = (v: string) => ({ version: parseVersion(v), source: 'channel stable' });
const policy = (drain: Partial<DrainPolicy> = {}) => ({ drain: { ...DEFAULT_DRAIN, ...drain }, readyTimeoutSeconds: 600 });
const byName = (plans: SucPlan[], name: string) => plans.find((p) => p.metadata.name === name)!;

function assertValid(plans: unknown[]): void {
  for (const p of plans) assert.deepEqual(validate(crd.openAPIV3Schema, p), [], JSON.stringify(p));
}

test('the CRD fixture notes the SUC version it was transcribed from', () => {
  assert.equal(crd.sucVersion, 'v0.20.x');
});

test('GIVEN the CRD schema WHEN a Plan has an unknown field or a wrong type THEN the validator rejects it', () => {
  const plan = sucPlans(planUpgrade(facts(labLike('v1.33.3+k3s1')), target('v1.33.5+k3s1')), policy()).plans[0]!;
  assertValid([plan]);
  const typo = { ...plan, spec: { ...plan.spec, concurency: 1 } };
  assert.deepEqual(validate(crd.openAPIV3Schema, typo), ['spec.concurency: unknown field']);
  const wrong = { ...plan, spec: { ...plan.spec, concurrency: '1', cordon: 'yes' } };
  assert.deepEqual(validate(crd.openAPIV3Schema, wrong), ['spec.concurrency: must be an integer', 'spec.cordon: must be a boolean']);
  const drain = { ...plan, spec: { ...plan.spec, drain: { timeout: true, deleteEmptyDirData: true } } };
  assert.deepEqual(validate(crd.openAPIV3Schema, drain), [
    'spec.drain.timeout: must be an integer or a string',
    'spec.drain.deleteEmptyDirData: unknown field',
  ]);
  const { upgrade: _u, ...noUpgrade } = plan.spec;
  assert.deepEqual(validate(crd.openAPIV3Schema, { ...plan, spec: noUpgrade }), ['spec.upgrade: required']);
});

test('GIVEN a patch upgrade WHEN written as SUC Plans THEN one server and one agent Plan pinned to the target, valid against the CRD', () => {
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), target('v1.33.5+k3s1'));
  const set = sucPlans(plan, policy());
  assertValid(set.plans);
  assert.deepEqual(
    set.plans.map((p) => p.metadata.name),
    ['pve-k3s-test-1-server', 'pve-k3s-test-1-agent'],
  );
  const [server, agent] = set.plans as [SucPlan, SucPlan];
  for (const p of set.plans) {
    assert.equal(p.apiVersion, 'upgrade.cattle.io/v1');
    assert.equal(p.kind, 'Plan');
    assert.equal(p.metadata.namespace, 'system-upgrade');
    assert.equal(p.spec.version, 'v1.33.5+k3s1');
    assert.equal('channel' in p.spec, false);
    assert.equal(p.spec.serviceAccountName, 'system-upgrade');
    assert.deepEqual(p.spec.upgrade, { image: 'rancher/k3s-upgrade' });
    assert.equal(p.metadata.labels['app.kubernetes.io/managed-by'], 'pve-k3s');
    assert.equal(p.metadata.labels['pve-k3s.io/cluster'], 'test');
    assert.ok(p.spec.jobActiveDeadlineSecs > 900, 'above the drain timeout and SUC default');
  }
  assert.equal(server.spec.concurrency, 1);
  assert.deepEqual(server.spec.nodeSelector.matchExpressions, [
    { key: 'node-role.kubernetes.io/control-plane', operator: 'In', values: ['true'] },
    { key: 'pve-k3s.io/upgrade', operator: 'In', values: ['true'] },
  ]);
  assert.ok(server.spec.tolerations?.some((t) => t.key === 'node-role.kubernetes.io/control-plane' && t.operator === 'Exists'));
  assert.ok(server.spec.tolerations?.some((t) => t.key === 'CriticalAddonsOnly'));
  // A single server is not drained (nowhere to put its pods): only cordoned.
  assert.equal(server.spec.cordon, true);
  assert.equal(server.spec.drain, undefined);
  assert.equal(server.spec.prepare, undefined);
  assert.deepEqual(agent.spec.nodeSelector.matchExpressions, [
    { key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' },
    { key: 'pve-k3s.io/upgrade', operator: 'In', values: ['true'] },
  ]);
  assert.equal(agent.spec.tolerations, undefined);
  assert.deepEqual(agent.spec.prepare, { image: 'rancher/k3s-upgrade', args: ['prepare', 'pve-k3s-test-1-server'] });
  assert.equal(agent.spec.concurrency, 1);
  // The agent's Job waits for the server in its prepare container, then drains: both budgets.
  assert.equal(server.spec.jobActiveDeadlineSecs, 300 + 600 + 300);
  assert.equal(agent.spec.jobActiveDeadlineSecs, 2 * (300 + 600 + 300));
  assert.deepEqual(set.excluded, []);
});

test('GIVEN --parallel 2 WHEN written as SUC Plans THEN the agent Plan has concurrency 2 and servers stay at 1', () => {
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, parallel: 2 });
  const set = sucPlans(plan, policy());
  assert.deepEqual(
    set.plans.map((p) => p.spec.concurrency),
    [1, 2],
  );
});

test('GIVEN a cluster two minors behind WHEN written as SUC Plans THEN a pair per minor, each pinned, the second chained on the first', () => {
  const plan = planUpgrade(facts(labLike('v1.31.4+k3s1')), target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, channels });
  const set = sucPlans(plan, policy());
  assertValid(set.plans);
  assert.deepEqual(
    set.plans.map((p) => [p.metadata.name, p.spec.version]),
    [
      ['pve-k3s-test-1-server', 'v1.32.9+k3s1'],
      ['pve-k3s-test-1-agent', 'v1.32.9+k3s1'],
      ['pve-k3s-test-2-server', 'v1.33.5+k3s1'],
      ['pve-k3s-test-2-agent', 'v1.33.5+k3s1'],
    ],
  );
  assert.deepEqual(byName(set.plans, 'pve-k3s-test-1-agent').spec.prepare?.args, ['prepare', 'pve-k3s-test-1-server']);
  assert.deepEqual(byName(set.plans, 'pve-k3s-test-2-agent').spec.prepare?.args, ['prepare', 'pve-k3s-test-2-server']);
  // Phase 2 only selects nodes SUC finished phase 1 on (with the same role's Plan), never a skipped minor.
  assert.deepEqual(byName(set.plans, 'pve-k3s-test-2-server').spec.nodeSelector.matchExpressions.slice(2), [
    { key: 'plan.upgrade.cattle.io/pve-k3s-test-1-server', operator: 'Exists' },
    { key: 'plan.upgrade.cattle.io/pve-k3s-test-1-server', operator: 'NotIn', values: ['disabled'] },
  ]);
  assert.deepEqual(byName(set.plans, 'pve-k3s-test-2-agent').spec.nodeSelector.matchExpressions.slice(2), [
    { key: 'plan.upgrade.cattle.io/pve-k3s-test-1-agent', operator: 'Exists' },
    { key: 'plan.upgrade.cattle.io/pve-k3s-test-1-agent', operator: 'NotIn', values: ['disabled'] },
  ]);
  assert.equal(byName(set.plans, 'pve-k3s-test-1-server').spec.nodeSelector.matchExpressions.length, 2);
  // A minor upgrade with workers drains the server, as the SSH engine does.
  assert.deepEqual(byName(set.plans, 'pve-k3s-test-1-server').spec.drain, drainSpec(DEFAULT_DRAIN));
});

test('GIVEN a drain policy WHEN mapped to SUC THEN every kubectl drain setting carries over, the timeout as a duration string', () => {
  assert.deepEqual(drainSpec(DEFAULT_DRAIN), {
    timeout: '300s',
    deleteEmptydirData: true,
    ignoreDaemonSets: true,
    force: false,
    disableEviction: true,
  });
  const custom: DrainPolicy = {
    ...DEFAULT_DRAIN,
    ignoreDaemonsets: false,
    deleteEmptydirData: false,
    disableEviction: false,
    force: true,
    timeoutSeconds: 1800,
    gracePeriodSeconds: 30,
    skipWaitForDeleteTimeoutSeconds: 60,
  };
  assert.deepEqual(drainSpec(custom), {
    timeout: '1800s',
    gracePeriod: 30,
    deleteEmptydirData: false,
    ignoreDaemonSets: false,
    force: true,
    disableEviction: false,
    skipWaitForDeleteTimeout: 60,
  });
  const plan = planUpgrade(facts(labLike('v1.33.3+k3s1')), target('v1.33.5+k3s1'));
  const set = sucPlans(plan, { drain: custom, readyTimeoutSeconds: 600 });
  assertValid(set.plans);
  const agent = byName(set.plans, 'pve-k3s-test-1-agent');
  assert.deepEqual(agent.spec.drain, drainSpec(custom));
  assert.equal(agent.spec.cordon, undefined);
  // A 30-minute drain would fail under SUC's 900 s default: the deadline is above it.
  assert.ok(agent.spec.jobActiveDeadlineSecs > 1800);
  assert.equal(byName(set.plans, 'pve-k3s-test-1-server').spec.jobActiveDeadlineSecs, 1800 + 600 + 300);
});

test('GIVEN a worker cordoned before the run WHEN written as SUC Plans THEN it is listed as excluded, with the disabled label to set', () => {
  const nodes = labLike('v1.33.3+k3s1');
  nodes[2] = { ...nodes[2]!, schedulable: false };
  const plan = planUpgrade(facts(nodes), target('v1.33.5+k3s1'));
  const set = sucPlans(plan, policy());
  assertValid(set.plans);
  assert.deepEqual(set.excluded, [{ node: 'k3s-worker-2', role: 'agent', plans: ['pve-k3s-test-1-agent'] }]);
  assert.equal(byName(set.plans, 'pve-k3s-test-1-agent').metadata.annotations['pve-k3s.io/excluded-nodes'], 'k3s-worker-2');
  assert.equal(byName(set.plans, 'pve-k3s-test-1-server').metadata.annotations['pve-k3s.io/excluded-nodes'], undefined);
  const text = sucPlansYaml(set, (d) => stringify(d));
  assert.match(text, /^# {3}kubectl label node k3s-worker-2 plan\.upgrade\.cattle\.io\/pve-k3s-test-1-agent=disabled --overwrite$/m);
});

test('GIVEN the Plans WHEN rendered as YAML and JSON THEN the YAML stream parses back to the same Plans and the JSON is a v1 List', () => {
  const plan = planUpgrade(facts(labLike('v1.31.4+k3s1')), target('v1.33.5+k3s1'), { ...DEFAULT_POLICY, channels });
  const set = sucPlans(plan, policy());
  const docs = parseAllDocuments(sucPlansYaml(set, (d) => stringify(d)));
  assert.deepEqual(
    docs.map((d) => d.errors),
    docs.map(() => []),
  );
  assert.deepEqual(
    docs.map((d) => d.toJS() as unknown),
    set.plans,
  );
  const list = sucPlanList(set);
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items, set.plans);
});

test('GIVEN nothing to do WHEN written as SUC Plans THEN no Plan, and the YAML says so', () => {
  const plan = planUpgrade(facts(labLike('v1.33.5+k3s1')), target('v1.33.5+k3s1'));
  const set = sucPlans(plan, policy());
  assert.deepEqual(set.plans, []);
  assert.match(
    sucPlansYaml(set, (d) => stringify(d)),
    /^# Nothing to do: every node already runs the target\.$/m,
  );
});

test('GIVEN a long cluster name WHEN a Plan is named THEN the name stays a 63-character DNS label, distinct per cluster', () => {
  const long = 'a'.repeat(60);
  const a = sucPlanName(long, 1, 'server');
  const b = sucPlanName('a'.repeat(59) + 'b', 1, 'server');
  assert.ok(a.length <= 63 && b.length <= 63, a);
  assert.match(a, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  assert.notEqual(a, b);
  assert.equal(sucPlanName('lab', 2, 'agent'), 'pve-k3s-lab-2-agent');
});
