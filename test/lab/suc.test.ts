/** The lab's system-upgrade-controller (src/lab/suc-*.ts) through its kubectl, on the virtual clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab, kubectl, inCt } from './helpers.js';
import { sucReleaseManifests, sucJobName } from '../../src/lab/index.js';
import type { Lab } from '../../src/lab/index.js';

const OPT_IN = { key: 'pve-k3s.io/upgrade', operator: 'In', values: ['true'] };
const CP = 'node-role.kubernetes.io/control-plane';

function plan(name: string, role: 'server' | 'agent', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'upgrade.cattle.io/v1',
    kind: 'Plan',
    metadata: { name, namespace: 'system-upgrade', labels: { 'app.kubernetes.io/managed-by': 'pve-k3s' } },
    spec: {
      concurrency: 1,
      version: 'v1.33.5+k3s1',
      serviceAccountName: 'system-upgrade',
      nodeSelector: {
        matchExpressions: [
          role === 'server' ? { key: CP, operator: 'In', values: ['true'] } : { key: CP, operator: 'DoesNotExist' },
          OPT_IN,
        ],
      },
      drain: { timeout: '300s', ignoreDaemonSets: true, deleteEmptydirData: true, force: false, disableEviction: true },
      upgrade: { image: 'rancher/k3s-upgrade' },
      ...extra,
    },
  };
}

const apply = (lab: Lab, doc: unknown) => inCt(lab, 100, ['/usr/local/bin/kubectl', 'apply', '-f', '-'], JSON.stringify(doc));
const json = async (lab: Lab, ...args: string[]) => {
  const r = await kubectl(lab, ...args, '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, any>;
};
const cond = (p: Record<string, any>, type: string) => (p.status.conditions as Array<Record<string, string>>).find((c) => c.type === type);

async function withSuc(): Promise<Lab> {
  // Durations long beside the real milliseconds between two kubectl calls (the virtual clock skips the waits).
  const lab = await makeLab({
    clock: 'virtual',
    timing: { installMs: 2000, restartMs: 2000, drainPerPodMs: 200, pctExecMs: 0, sshRttMs: 0 },
  });
  const r = await inCt(lab, 100, ['/usr/local/bin/kubectl', 'apply', '-f', '-'], sucReleaseManifests());
  assert.equal(r.code, 0, r.stderr);
  return lab;
}

test('GIVEN a lab without SUC WHEN Plans are asked for or applied THEN kubectl says the type is unknown and the CRD is missing; the release manifests install it', async () => {
  const lab = await makeLab({ clock: 'virtual' });
  const g = await kubectl(lab, 'get', 'plans.upgrade.cattle.io', '-A', '-o', 'json');
  assert.equal(g.code, 1);
  assert.equal(g.stderr, 'error: the server doesn\'t have a resource type "plans.upgrade.cattle.io"\n');
  const a = await apply(lab, plan('p', 'agent'));
  assert.equal(a.code, 1);
  assert.match(a.stderr, /no matches for kind "Plan" in version "upgrade.cattle.io\/v1"\nensure CRDs are installed first\n$/);
  const crd = await kubectl(lab, 'get', 'crd', 'plans.upgrade.cattle.io', '-o', 'json');
  assert.equal(
    crd.stderr,
    'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "plans.upgrade.cattle.io" not found\n',
  );

  const i = await inCt(lab, 100, ['/usr/local/bin/kubectl', 'apply', '-f', '-'], sucReleaseManifests('v0.16.3'));
  assert.equal(i.code, 0, i.stderr);
  assert.equal(
    i.stdout,
    [
      'customresourcedefinition.apiextensions.k8s.io/plans.upgrade.cattle.io created',
      'namespace/system-upgrade created',
      'serviceaccount/system-upgrade created',
      'clusterrolebinding.rbac.authorization.k8s.io/system-upgrade created',
      'configmap/default-controller-env created',
      'deployment.apps/system-upgrade-controller created',
      '',
    ].join('\n'),
  );
  const again = await inCt(lab, 100, ['/usr/local/bin/kubectl', 'apply', '-f', '-'], sucReleaseManifests('v0.16.3'));
  assert.match(again.stdout, /^deployment\.apps\/system-upgrade-controller unchanged$/m);
  const d = await json(lab, 'get', 'deployments.apps', '-n', 'system-upgrade', 'system-upgrade-controller');
  assert.equal(d.spec.template.spec.containers[0].image, 'rancher/system-upgrade-controller:v0.16.3');
  assert.deepEqual((await json(lab, 'get', 'plans.upgrade.cattle.io', '-A')).items, []);
});

test('GIVEN SUC and an agent Plan WHEN a worker is opted in THEN one Job per node at concurrency 1 drains, swaps the binary, restarts k3s; SUC labels the node with the hash and uncordons it', async () => {
  const lab = await withSuc();
  assert.equal((await apply(lab, plan('up-agent', 'agent'))).stdout, 'plan.upgrade.cattle.io/up-agent created\n');
  let p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'up-agent');
  assert.equal(cond(p, 'Validated')?.reason, 'PlanIsValid');
  assert.equal(cond(p, 'LatestResolved')?.reason, 'Version');
  assert.equal(p.status.latestVersion, 'v1.33.5-k3s1');
  assert.equal(cond(p, 'Complete')?.status, 'True', 'no node is opted in yet');
  const hash = p.status.latestHash as string;
  assert.match(hash, /^[0-9a-f]{56}$/);

  const l = await kubectl(lab, 'label', 'node', 'k3s-worker-1', 'k3s-worker-2', 'pve-k3s.io/upgrade=true');
  assert.equal(l.stdout, 'node/k3s-worker-1 labeled\nnode/k3s-worker-2 labeled\n');
  p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'up-agent');
  assert.equal(p.status.applying.length, 1, 'concurrency 1');
  assert.equal(cond(p, 'Complete')?.reason, 'SyncJob');
  const first = p.status.applying[0] as string;
  const name = sucJobName('up-agent', first, hash);
  assert.ok(name.length <= 63 && name.startsWith(`apply-up-agent-on-${first}-with-`), name);
  const jobs = await json(lab, 'get', 'jobs', '-n', 'system-upgrade', '-l', `upgrade.cattle.io/node=${first}`);
  assert.deepEqual(
    jobs.items.map((j: any) => j.metadata.name),
    [name],
  );

  const w = await kubectl(lab, 'wait', '-n', 'system-upgrade', '--for=condition=Complete', `job/${name}`, '--timeout=60s');
  assert.equal(w.stdout, `job.batch/${name} condition met\n`, w.stderr);
  const node = await json(lab, 'get', 'node', first);
  assert.equal(node.metadata.labels['plan.upgrade.cattle.io/up-agent'], hash);
  assert.equal(node.spec.unschedulable, undefined, 'SUC uncordons it');
  const wr = await kubectl(lab, 'wait', '--for=condition=Ready', `node/${first}`, '--timeout=60s');
  assert.equal(wr.code, 0, wr.stderr);
  assert.equal((await json(lab, 'get', 'node', first)).status.nodeInfo.kubeletVersion, 'v1.33.5+k3s1');
  const log = await kubectl(lab, 'logs', '-n', 'system-upgrade', `job/${name}`);
  assert.match(log.stdout, /Deploying new k3s binary/);
  assert.equal(log.stderr, 'Defaulted container "upgrade" out of: upgrade, drain (init)\n');

  // The other opted-in worker goes next; then the Plan is Complete.
  const second = first === 'k3s-worker-1' ? 'k3s-worker-2' : 'k3s-worker-1';
  const name2 = sucJobName('up-agent', second, hash);
  for (let i = 0; i < 20; i++) {
    const r = await kubectl(lab, 'wait', '-n', 'system-upgrade', '--for=condition=Complete', `job/${name2}`, '--timeout=60s');
    if (r.code === 0) break;
    await lab.clock.sleep(100);
  }
  p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'up-agent');
  assert.equal(cond(p, 'Complete')?.status, 'True');
  assert.equal(p.status.applying, undefined);
  assert.equal((await json(lab, 'get', 'node', 'k3s-worker-3')).status.nodeInfo.kubeletVersion, 'v1.33.3+k3s1', 'not opted in');
});

test('GIVEN a node labelled disabled, and an agent Plan whose prepare waits for the server Plan THEN the disabled node is never selected and agents wait until the servers run the version', async () => {
  const lab = await withSuc();
  await kubectl(lab, 'label', 'node', 'k3s-worker-3', 'plan.upgrade.cattle.io/a=disabled');
  await kubectl(lab, 'label', 'node', 'k3s-worker-1', 'k3s-worker-3', 'pve-k3s.io/upgrade=true');
  await apply(lab, plan('a', 'agent', { prepare: { image: 'rancher/k3s-upgrade', args: ['prepare', 's'] }, concurrency: 5 }));
  let p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'a');
  assert.deepEqual(p.status.applying, ['k3s-worker-1']);
  const job = sucJobName('a', 'k3s-worker-1', p.status.latestHash);
  const w = await kubectl(lab, 'wait', '-n', 'system-upgrade', '--for=condition=Complete', `job/${job}`, '--timeout=30s');
  assert.equal(w.code, 1);
  assert.equal(w.stderr, `error: timed out waiting for the condition on jobs/${job}\n`);
  const prep = await kubectl(lab, 'logs', '-n', 'system-upgrade', `job/${job}`, '-c', 'prepare');
  assert.match(prep.stdout, /master plan s doesn't exist/);
  await apply(lab, plan('s', 'server', { tolerations: [{ key: CP, operator: 'Exists' }], cordon: true, drain: undefined }));
  await kubectl(lab, 'label', 'node', 'k3s-ctrl-1', 'pve-k3s.io/upgrade=true');
  const w2 = await kubectl(lab, 'wait', '-n', 'system-upgrade', '--for=condition=Complete', `job/${job}`, '--timeout=120s');
  assert.equal(w2.code, 0, w2.stderr);
  assert.equal((await json(lab, 'get', 'node', 'k3s-ctrl-1')).status.nodeInfo.kubeletVersion, 'v1.33.5+k3s1');
  p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'a');
  assert.equal(cond(p, 'Complete')?.status, 'True');
  assert.equal((await json(lab, 'get', 'node', 'k3s-worker-3')).metadata.labels['plan.upgrade.cattle.io/a'], 'disabled');
});

test('GIVEN a failing upgrade container WHEN its Job runs THEN it fails after backoffLimit 2, the Plan says JobFailed with the Job, and logs show the pod log', async () => {
  const lab = await withSuc();
  lab.update((s) => {
    s.clusters.lab!.suc!.faults = [
      { node: 'k3s-worker-2', exitCode: 1, log: 'time="..." level=fatal msg="cannot copy k3s: no space left on device"' },
    ];
  });
  await apply(lab, plan('f', 'agent'));
  await kubectl(lab, 'label', 'node', 'k3s-worker-2', 'pve-k3s.io/upgrade=true');
  let p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'f');
  const job = sucJobName('f', 'k3s-worker-2', p.status.latestHash);
  const w = await kubectl(lab, 'wait', '-n', 'system-upgrade', '--for=condition=Failed', `job/${job}`, '--timeout=300s');
  assert.equal(w.code, 0, w.stderr);
  const j = await json(lab, 'get', 'job', '-n', 'system-upgrade', job);
  assert.equal(j.status.failed, 3);
  assert.deepEqual(
    j.status.conditions.map((c: any) => [c.type, c.reason]),
    [
      ['FailureTarget', 'BackoffLimitExceeded'],
      ['Failed', 'BackoffLimitExceeded'],
    ],
  );
  p = await json(lab, 'get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', 'f');
  assert.equal(cond(p, 'Complete')?.reason, 'JobFailed');
  assert.equal(
    cond(p, 'Complete')?.message,
    `Job system-upgrade/${job} failed on Node k3s-worker-2: BackoffLimitExceeded: Job has reached the specified backoff limit`,
  );
  const log = await kubectl(lab, 'logs', '-n', 'system-upgrade', `job/${job}`);
  assert.match(log.stdout, /no space left on device/);
  const node = await json(lab, 'get', 'node', 'k3s-worker-2');
  assert.equal(node.spec.unschedulable, true, 'a failed Job leaves its node drained');
  assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.33.3+k3s1');
  const d = await kubectl(lab, 'delete', 'plans.upgrade.cattle.io', '-n', 'system-upgrade', '-l', 'app.kubernetes.io/managed-by=pve-k3s');
  assert.equal(d.stdout, 'plan.upgrade.cattle.io "f" deleted\n');
  assert.deepEqual((await json(lab, 'get', 'jobs', '-n', 'system-upgrade')).items, [], "the Plan's Jobs go with it");
});
