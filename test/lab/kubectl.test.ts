import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab, inCt, kubectl, sleep } from './helpers.js';
import { fixture as readFixture } from '../helpers/fixtures.js';

const fixtureNodes = JSON.parse(readFixture('kubectl-get-nodes.json')) as { items: Array<Record<string, any>> };
const keysDeep = (o: unknown, prefix = ''): string[] =>
  o !== null && typeof o === 'object' && !Array.isArray(o)
    ? Object.entries(o as Record<string, unknown>).flatMap(([k, v]) =>
        prefix.endsWith('annotations') || prefix.endsWith('labels')
          ? [`${prefix}.${k}`]
          : [`${prefix}.${k}`, ...keysDeep(v, `${prefix}.${k}`)],
      )
    : [];

test("GIVEN the lab cluster WHEN kubectl get nodes -o json THEN objects have the fixture's shape and values", async () => {
  const lab = await makeLab();
  await kubectl(lab, 'cordon', 'k3s-worker-1');
  const r = await kubectl(lab, 'get', 'nodes', '-o', 'json');
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.stdout) as { items: Array<Record<string, any>> };
  assert.deepEqual(
    doc.items.map((n) => n.metadata.name),
    ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3'],
  );
  for (const [i, n] of doc.items.entries()) {
    const f = fixtureNodes.items[i]!;
    const ignore = (k: string) => !k.includes('.annotations.') && !k.includes('.labels.');
    assert.deepEqual(keysDeep(n).filter(ignore).sort(), keysDeep(f).filter(ignore).sort(), n.metadata.name);
    assert.deepEqual(Object.keys(n.metadata.labels).sort(), Object.keys(f.metadata.labels).sort());
    assert.deepEqual(n.metadata.annotations['k3s.io/node-args'], f.metadata.annotations['k3s.io/node-args']);
  }
  const w1 = doc.items[1]!;
  assert.equal(w1.spec.unschedulable, true);
  assert.equal(w1.spec.taints[0].key, 'node.kubernetes.io/unschedulable');
  assert.equal(w1.status.nodeInfo.kubeletVersion, 'v1.33.3+k3s1');
  assert.equal(w1.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
  assert.deepEqual(w1.status.addresses, [
    { address: '10.0.20.21', type: 'InternalIP' },
    { address: 'k3s-worker-1', type: 'Hostname' },
  ]);
});

test("GIVEN a cordoned node WHEN kubectl get nodes THEN the table has the fixture's columns", async () => {
  const lab = await makeLab();
  assert.equal((await kubectl(lab, 'cordon', 'k3s-worker-1')).stdout, 'node/k3s-worker-1 cordoned\n');
  assert.equal((await kubectl(lab, 'cordon', 'k3s-worker-1')).stdout, 'node/k3s-worker-1 already cordoned\n');
  const r = await kubectl(lab, 'get', 'nodes');
  assert.equal(
    r.stdout,
    [
      'NAME           STATUS                     ROLES                  AGE   VERSION',
      'k3s-ctrl-1     Ready                      control-plane,master   30d   v1.33.3+k3s1',
      'k3s-worker-1   Ready,SchedulingDisabled   <none>                 30d   v1.33.3+k3s1',
      'k3s-worker-2   Ready                      <none>                 30d   v1.33.3+k3s1',
      'k3s-worker-3   Ready                      <none>                 30d   v1.33.3+k3s1',
      '',
    ].join('\n'),
  );
  assert.equal((await kubectl(lab, 'uncordon', 'k3s-worker-1')).stdout, 'node/k3s-worker-1 uncordoned\n');
});

test('GIVEN an agent container or a stopped server WHEN kubectl runs THEN the connection is refused (exit 1)', async () => {
  const lab = await makeLab();
  const refused = 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n';
  assert.deepEqual(await inCt(lab, 101, ['/usr/local/bin/kubectl', 'get', 'nodes']), { code: 1, stdout: '', stderr: refused });
  await inCt(lab, 100, ['systemctl', 'restart', 'k3s']);
  assert.equal((await kubectl(lab, 'get', '--raw', '/readyz')).stdout, 'ok');
  await inCt(lab, 100, ['systemctl', 'stop', 'k3s']);
  assert.deepEqual(await kubectl(lab, 'get', 'nodes'), { code: 1, stdout: '', stderr: refused });
});

test('GIVEN a k3s restart WHEN read over time THEN NotReady first, then Ready at the new kubelet version', async () => {
  const lab = await makeLab();
  lab.update((s) => {
    const ct = s.hosts[0]!.containers.find((c) => c.vmid === 101)!;
    ct.k3s.binaryVersion = 'v1.33.5+k3s1';
  });
  const restart = inCt(lab, 101, ['systemctl', 'restart', 'k3s-agent']);
  await sleep(10);
  const during = JSON.parse((await kubectl(lab, 'get', 'node', 'k3s-worker-1', '-o', 'json')).stdout);
  assert.equal(during.status.conditions.at(-1).status, 'False');
  assert.equal(during.status.nodeInfo.kubeletVersion, 'v1.33.3+k3s1');
  assert.equal((await restart).code, 0);
  await sleep(70);
  const after = JSON.parse((await kubectl(lab, 'get', 'node', 'k3s-worker-1', '-o', 'json')).stdout);
  assert.equal(after.status.conditions.at(-1).status, 'True');
  assert.equal(after.status.nodeInfo.kubeletVersion, 'v1.33.5+k3s1');
  assert.equal((await inCt(lab, 101, ['systemctl', 'is-active', 'k3s-agent'])).stdout, 'active\n');
});

test("GIVEN annotate WHEN set, refused without --overwrite, and removed THEN kubectl's messages", async () => {
  const lab = await makeLab();
  assert.equal((await kubectl(lab, 'annotate', 'node', 'k3s-worker-2', 'pve-k3s/step=drain')).stdout, 'node/k3s-worker-2 annotated\n');
  const again = await kubectl(lab, 'annotate', 'node', 'k3s-worker-2', 'pve-k3s/step=upgrade');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /--overwrite is false/);
  await kubectl(lab, 'annotate', 'node', 'k3s-worker-2', 'pve-k3s/step=upgrade', '--overwrite');
  const n = JSON.parse((await kubectl(lab, 'get', 'node', 'k3s-worker-2', '-o', 'json')).stdout);
  assert.equal(n.metadata.annotations['pve-k3s/step'], 'upgrade');
  await kubectl(lab, 'annotate', 'node', 'k3s-worker-2', 'pve-k3s/step-');
  const m = JSON.parse((await kubectl(lab, 'get', 'node', 'k3s-worker-2', '-o', 'json')).stdout);
  assert.equal(m.metadata.annotations['pve-k3s/step'], undefined);
  assert.deepEqual(await kubectl(lab, 'get', 'node', 'nope', '-o', 'json'), {
    code: 1,
    stdout: '',
    stderr: 'Error from server (NotFound): nodes "nope" not found\n',
  });
});

test('GIVEN pods and PDBs WHEN listed as JSON THEN owners, nodes, emptyDir and PDB status are there', async () => {
  const lab = await makeLab();
  const pods = JSON.parse((await kubectl(lab, 'get', 'pods', '-A', '-o', 'json')).stdout).items as Array<any>;
  const web = pods.filter((p) => p.metadata.labels.app === 'web');
  assert.equal(web.length, 3);
  assert.deepEqual(new Set(web.map((p) => p.spec.nodeName)), new Set(['k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']));
  assert.equal(pods.filter((p) => p.metadata.ownerReferences?.[0].kind === 'DaemonSet').length, 4);
  assert.ok(pods.some((p) => p.spec.volumes.some((v: any) => v.emptyDir)));
  const pdbs = JSON.parse((await kubectl(lab, 'get', 'pdb', '--all-namespaces', '-o', 'json')).stdout).items as Array<any>;
  assert.deepEqual(
    pdbs.map((b) => [b.metadata.namespace, b.spec.minAvailable, b.status.disruptionsAllowed]),
    [['vault', 1, 0]],
  );
});

test('GIVEN a node WHEN its kubelet /healthz is read through the apiserver THEN ok while its k3s runs, refused once stopped, NotFound for no node', async () => {
  const lab = await makeLab();
  assert.deepEqual(await kubectl(lab, 'get', '--raw', '/api/v1/nodes/k3s-worker-1/proxy/healthz'), { code: 0, stdout: 'ok', stderr: '' });
  assert.equal((await inCt(lab, 101, ['systemctl', 'stop', 'k3s-agent'])).code, 0);
  assert.deepEqual(await kubectl(lab, 'get', '--raw', '/api/v1/nodes/k3s-worker-1/proxy/healthz'), {
    code: 1,
    stdout: '',
    stderr: 'Error from server: error dialing backend: dial tcp k3s-worker-1:10250: connect: connection refused\n',
  });
  assert.equal(
    (await kubectl(lab, 'get', '--raw', '/api/v1/nodes/nope/proxy/healthz')).stderr,
    'Error from server (NotFound): nodes "nope" not found\n',
  );
});

test('GIVEN names some of which do not exist WHEN kubectl get THEN what was found on stdout, each NotFound on stderr, exit 1', async () => {
  const lab = await makeLab();
  const r = await kubectl(lab, 'get', 'nodes', 'k3s-worker-1', 'ghost');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^NAME +STATUS +ROLES +AGE +VERSION\nk3s-worker-1 +Ready +<none> +30d +v1\.33\.3\+k3s1\n$/);
  assert.equal(r.stderr, 'Error from server (NotFound): nodes "ghost" not found\n');
  const json = await kubectl(lab, 'get', 'node', 'ghost', '-o', 'json');
  assert.deepEqual(json, { code: 1, stdout: '', stderr: 'Error from server (NotFound): nodes "ghost" not found\n' });
});
