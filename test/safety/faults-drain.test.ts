/** Drain policy: PDB-blocked evictions, the onTimeout fallback, pods without a controller, pre-drain warnings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, assertJournalConsistent, lastRun, kubelets, cordoned } from './helpers.js';
import { drainWarnings, type PodInfo, type PdbInfo } from '../../src/upgrade/run/drain-check.js';
import type { KubeNodeFacts } from '../../src/domain/facts.js';
import { DEFAULT_DRAIN } from '../../src/inventory/defaults.js';
import { cliInProcess } from '../helpers/lab-cli.js';
import { unmanagedPod } from '../helpers/pods.js';

cliInProcess();

const TARGET = 'v1.33.5+k3s1';

test("GIVEN a PDB that allows no disruption and disableEviction false WHEN the drain times out THEN the run stops with kubectl's error and a warning said so first; resume with onTimeout disable-eviction finishes", async () => {
  await withLab({ workers: 2 }, async (f) => {
    const vaultNode = f.lab.state.clusters['lab']!.pods.find((p) => p.name === 'vault-0')!.node;
    const r = await f.cli(['upgrade', '--yes', '--no-disable-eviction', '--drain-timeout', '1s']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `warning: ${vaultNode}: PodDisruptionBudget vault/vault allows 0 disruption\\(s\\): evicting its pod\\(s\\) on ${vaultNode} will block until drain\\.timeout \\(1s\\)$`,
        'm',
      ),
    );
    // kubectl's own words from its stderr, in its order: not the `cordoned` line of its stdout.
    const failure = r.stderr.slice(r.stderr.indexOf(`\nerror: draining ${vaultNode} failed: `) + 1);
    const message = failure.slice(0, failure.indexOf('\n  a PodDisruptionBudget'));
    assert.equal(
      message,
      [
        `error: draining ${vaultNode} failed: error when evicting pods/"vault-0" -n "vault" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
        `There are pending pods in node "${vaultNode}" when an error occurred: error when evicting pods/"vault-0" -n "vault": global timeout reached: 1s`,
        'pod/vault-0',
        `error: unable to drain node "${vaultNode}" due to error: error when evicting pods/"vault-0" -n "vault": global timeout reached: 1s, continuing command...`,
        'There are pending nodes to be drained:',
        ` ${vaultNode}`,
        'error: error when evicting pods/"vault-0" -n "vault": global timeout reached: 1s',
      ].join('\n'),
    );
    assert.doesNotMatch(message, /cordoned/);
    assert.match(
      r.stderr,
      /^  a PodDisruptionBudget may block eviction: raise drain\.timeout, set drain\.onTimeout: disable-eviction \(or --drain-on-timeout disable-eviction\), or drain\.disableEviction \(deletes pods, bypassing PDBs\)$/m,
    );
    assert.match(r.stderr, new RegExp(`^Cordoned by this upgrade and NOT uncordoned: ${vaultNode}\\.$`, 'm'));

    const again = await f.cli([
      'resume',
      '--yes',
      '--no-disable-eviction',
      '--drain-timeout',
      '1s',
      '--drain-on-timeout',
      'disable-eviction',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      new RegExp(
        `warning: ${vaultNode}: drain of ${vaultNode} timed out on evictions \\(a PodDisruptionBudget\\?\\); retrying with --disable-eviction as drain\\.onTimeout says$`,
        'm',
      ),
    );
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assert.deepEqual(cordoned(f.lab), []);
    assertJournalConsistent(f, assert.ok);
  });
});

test('GIVEN a pod with no controller WHEN upgrade drains its node THEN a warning comes first, the drain fails, and resume --drain-force finishes', async () => {
  await withLab({ workers: 2 }, async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.pods.push(unmanagedPod({ node: 'k3s-worker-1' }));
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /warning: k3s-worker-1: pod\(s\) with no controller on k3s-worker-1 make the drain fail: default\/debug \(set drain\.force or --drain-force to delete them\)$/m,
    );
    assert.match(
      r.stderr,
      /^error: draining k3s-worker-1 failed: .*cannot delete Pods that declare no controller \(use --force to override\): default\/debug.*$/m,
    );
    assert.match(r.stderr, /^Cordoned by this upgrade and NOT uncordoned: k3s-worker-1\.$/m);
    assert.equal(lastRun(f)?.status, 'failed');

    const again = await f.cli(['resume', '--yes', '--drain-force']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /warning: k3s-worker-1: pod\(s\) with no controller on k3s-worker-1 will be deleted and NOT re-created \(drain\.force\): default\/debug$/m,
    );
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assert.deepEqual(cordoned(f.lab), []);
    assertJournalConsistent(f, assert.ok);
  });
});

const node = (ready: boolean, schedulable: boolean): KubeNodeFacts => ({
  ready,
  schedulable,
  kubeletVersion: undefined,
  kubeletVersionRaw: '',
  cordonedByUs: undefined,
  k3sRole: 'agent',
});
const pod = (name: string, nodeName: string, ownerKind: string | undefined, app = name): PodInfo => ({
  name,
  namespace: 'default',
  node: nodeName,
  labels: { app },
  ownerKind,
});

test('GIVEN the only other worker cordoned WHEN a drain is checked THEN it warns the pods will stay Pending; DaemonSet pods never count', () => {
  const nodes = new Map([
    ['w1', node(true, true)],
    ['w2', node(true, false)],
  ]);
  const pods = [pod('web-1', 'w1', 'ReplicaSet'), pod('svclb', 'w1', 'DaemonSet')];
  assert.deepEqual(drainWarnings('w1', { pods, pdbs: [], nodes }, DEFAULT_DRAIN), [
    {
      level: 'warn',
      message: 'no other schedulable Ready node can take the 1 pod(s) of w1: they will stay Pending until it is uncordoned',
    },
  ]);
  assert.deepEqual(drainWarnings('w1', { pods: [pod('svclb', 'w1', 'DaemonSet')], pdbs: [], nodes }, DEFAULT_DRAIN), []);
  nodes.set('w3', node(true, true));
  assert.deepEqual(drainWarnings('w1', { pods, pdbs: [], nodes }, DEFAULT_DRAIN), []);
});

test("GIVEN PDBs WHEN a drain is checked THEN only a PDB with too few allowed disruptions for the node's pods is reported, as a warning only when it will block", () => {
  const nodes = new Map([
    ['w1', node(true, true)],
    ['w2', node(true, true)],
  ]);
  const pods = [pod('vault-0', 'w1', 'StatefulSet', 'vault'), pod('web-1', 'w1', 'ReplicaSet', 'web')];
  const pdbs: PdbInfo[] = [
    { name: 'vault', namespace: 'default', matchLabels: { app: 'vault' }, disruptionsAllowed: 0 },
    { name: 'web', namespace: 'default', matchLabels: { app: 'web' }, disruptionsAllowed: 1 },
  ];
  assert.deepEqual(
    drainWarnings(
      'w1',
      { pods, pdbs, nodes },
      { ...DEFAULT_DRAIN, disableEviction: false, timeoutSeconds: 60, onTimeout: 'disable-eviction' },
    ),
    [
      {
        level: 'warn',
        message:
          'PodDisruptionBudget default/vault allows 0 disruption(s): evicting its pod(s) on w1 will block until drain.timeout (60s), then the drain is retried deleting pods (drain.onTimeout)',
      },
    ],
  );
  assert.deepEqual(drainWarnings('w1', { pods, pdbs, nodes }, DEFAULT_DRAIN), [
    {
      level: 'info',
      message: 'PodDisruptionBudget default/vault allows 0 disruption(s); drain.disableEviction deletes its pod(s) on w1 anyway',
    },
  ]);
});

test("GIVEN a pod with no controller on the SECOND worker WHEN upgrade runs THEN its warning (read ahead during the first worker's upgrade) still comes before its drain fails", async () => {
  await withLab({ workers: 2 }, async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.pods.push(unmanagedPod({ node: 'k3s-worker-2', name: 'debug2' }));
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    const warning = r.stderr.search(
      /warning: k3s-worker-2: pod\(s\) with no controller on k3s-worker-2 make the drain fail: default\/debug2/,
    );
    const error = r.stderr.search(/^error: draining k3s-worker-2 failed: /m);
    assert.ok(warning >= 0 && error > warning, r.stderr);
    assert.doesNotMatch(r.stderr, /no other schedulable Ready node/);
    assert.match(r.stderr, /^Cordoned by this upgrade and NOT uncordoned: k3s-worker-2\.$/m);
  });
});

test('GIVEN pre-drain reads taken while another node was cordoned WHEN that node was uncordoned since THEN it counts as able to take the pods', async () => {
  const { drainCheckFrom } = await import('../../src/upgrade/run/drain-check.js');
  const json = (o: unknown) => ({ code: 0, stdout: JSON.stringify(o), stderr: '' });
  const nodeItem = (name: string, unschedulable: boolean) => ({
    metadata: { name, labels: {} },
    spec: unschedulable ? { unschedulable: true } : {},
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.33.3+k3s1' } },
  });
  const reads = [
    json({
      items: [
        {
          metadata: { name: 'web-1', namespace: 'default', ownerReferences: [{ kind: 'ReplicaSet', controller: true }] },
          spec: { nodeName: 'w2' },
        },
      ],
    }),
    json({ items: [] }),
    json({ items: [nodeItem('w1', true), nodeItem('w2', false)] }),
  ];
  assert.equal(drainCheckFrom('w2', reads, { policy: DEFAULT_DRAIN }).length, 1);
  assert.deepEqual(drainCheckFrom('w2', reads, { policy: DEFAULT_DRAIN, uncordonedSince: new Set(['w1']) }), []);
});
