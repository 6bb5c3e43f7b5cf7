/** factsAfterRun: the final table's facts from the plan's facts, the run's gates and its last read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterFacts, KubeNodeFacts, NodeFacts } from '../../../src/domain/facts.js';
import type { Step } from '../../../src/domain/plan.js';
import { parseVersion } from '../../../src/domain/version.js';
import { factsAfterRun } from '../../../src/upgrade/run/final-facts.js';

const OLD = 'v1.33.3+k3s1';
const NEW = 'v1.33.5+k3s1';

function node(name: string, installed: string): NodeFacts {
  return {
    name,
    vmid: name === 'w1' ? 101 : 102,
    host: 'pve1',
    role: 'agent',
    container: 'running',
    lock: undefined,
    installed: parseVersion(installed),
    installedError: undefined,
    kube: kube(installed, true),
  };
}

function kube(v: string, schedulable: boolean): KubeNodeFacts {
  return { ready: true, schedulable, kubeletVersion: parseVersion(v), kubeletVersionRaw: v, cordonedByUs: undefined, k3sRole: 'agent' };
}

const before: ClusterFacts = {
  cluster: 'lab',
  controller: 'c1',
  nodes: [node('w1', OLD), node('w2', OLD)],
  kubeError: undefined,
  hostErrors: {},
  roundTrips: 2,
};

const gate = (n: string, version: string) => ({ id: `0/${n}/wait-ready`, kind: 'wait-ready', node: n, version }) as unknown as Step;

test('GIVEN a finished run with a final read WHEN the final facts are made THEN gated nodes show the version their gate saw and every node the last read', () => {
  const finalNodes = new Map([
    ['w1', kube(NEW, true)],
    ['w2', kube(OLD, false)],
  ]);
  const after = factsAfterRun(before, { ok: true, completed: [gate('w1', NEW)], finalNodes });
  assert.ok(after);
  assert.equal(after.nodes[0]!.installed?.raw, NEW);
  assert.equal(after.nodes[0]!.kube?.kubeletVersionRaw, NEW);
  assert.equal(after.nodes[1]!.installed?.raw, OLD, 'no gate passed in this run: the probe before it still says');
  assert.equal(after.nodes[1]!.kube?.schedulable, false, 'the last read, not the probe');
  assert.equal(before.nodes[0]!.installed?.raw, OLD, 'the plan facts are not changed');
});

test('GIVEN a run that failed, or one without a final read WHEN the final facts are asked THEN there are none (probe again)', () => {
  assert.equal(factsAfterRun(before, { ok: false, completed: [], finalNodes: new Map() }), undefined);
  assert.equal(factsAfterRun(before, { ok: true, completed: [gate('w1', NEW)] }), undefined);
});
