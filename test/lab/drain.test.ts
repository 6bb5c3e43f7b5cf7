import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab, kubectl, inCt } from './helpers.js';
import type { Lab } from '../../src/lab/index.js';
import { unmanagedPod } from '../helpers/pods.js';

const podsOn = (lab: Lab, node: string) => lab.state.clusters.lab!.pods.filter((p) => p.node === node);

test('GIVEN a DaemonSet pod WHEN drained without --ignore-daemonsets THEN kubectl refuses, listing it', async () => {
  const lab = await makeLab();
  const r = await kubectl(lab, 'drain', 'k3s-worker-3');
  const ds = podsOn(lab, 'k3s-worker-3').find((p) => p.owner?.kind === 'DaemonSet')!;
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'node/k3s-worker-3 cordoned\n');
  const err = `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/${ds.name}`;
  assert.equal(
    r.stderr,
    `error: unable to drain node "k3s-worker-3" due to error: ${err}, continuing command...\nThere are pending nodes to be drained:\n k3s-worker-3\nerror: ${err}\n`,
  );
});

test('GIVEN a pod without controller WHEN drained without --force THEN refused; with --force it is deleted for good', async () => {
  const lab = await makeLab();
  lab.update((s) => {
    s.clusters.lab!.pods.push(unmanagedPod({ node: 'k3s-worker-3', createdAt: 0, uid: 'u-debug' }));
  });
  const r = await kubectl(lab, 'drain', 'k3s-worker-3', '--ignore-daemonsets');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot delete Pods that declare no controller \(use --force to override\): default\/debug/);
  const f = await kubectl(lab, 'drain', 'k3s-worker-3', '--ignore-daemonsets', '--force');
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stderr, /^Warning: ignoring DaemonSet-managed Pods: \S+; deleting Pods that declare no controller: default\/debug\n$/);
  assert.match(f.stdout, /pod\/debug evicted\nnode\/k3s-worker-3 drained\n$/);
  assert.equal(
    lab.state.clusters.lab!.pods.some((p) => p.name === 'debug'),
    false,
  );
});

test('GIVEN an emptyDir pod WHEN drained without --delete-emptydir-data THEN refused', async () => {
  const lab = await makeLab();
  const r = await kubectl(lab, 'drain', 'k3s-worker-2', '--ignore-daemonsets');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/cache-/);
});

test('GIVEN the vault PDB WHEN its pod is evicted THEN kubectl retries until --timeout and fails', async () => {
  const lab = await makeLab();
  const started = Date.now();
  const r = await kubectl(lab, 'drain', 'k3s-worker-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=150ms');
  assert.ok(Date.now() - started >= 140);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /^node\/k3s-worker-1 cordoned\nevicting pod default\/web-\S+\nevicting pod vault\/vault-0\npod\/web-\S+ evicted\nevicting pod vault\/vault-0\n$/,
  );
  assert.match(
    r.stderr,
    /error when evicting pods\/"vault-0" -n "vault" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\.\n/,
  );
  assert.match(r.stderr, /error: error when evicting pods\/"vault-0" -n "vault": global timeout reached: 150ms\n$/);
  assert.equal(
    podsOn(lab, 'k3s-worker-1').some((p) => p.name === 'vault-0'),
    true,
  );
  const web = lab.state.clusters.lab!.pods.filter((p) => p.app === 'web');
  assert.equal(web.length, 3, 'the evicted web pod was re-created');
  assert.ok(web.every((p) => p.node !== 'k3s-worker-1' && p.node !== ''));
});

test('GIVEN the vault PDB WHEN drained with --disable-eviction THEN pods are deleted, PDB bypassed, and re-created elsewhere', async () => {
  const lab = await makeLab();
  const r = await kubectl(
    lab,
    'drain',
    'k3s-worker-1',
    '--ignore-daemonsets',
    '--delete-emptydir-data',
    '--disable-eviction',
    '--timeout=5m',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pod\/vault-0 deleted\nnode\/k3s-worker-1 drained\n$/);
  assert.doesNotMatch(r.stdout, /evicting/);
  const vault = lab.state.clusters.lab!.pods.find((p) => p.name === 'vault-0')!;
  assert.notEqual(vault.node, 'k3s-worker-1');
  assert.deepEqual(
    podsOn(lab, 'k3s-worker-1').map((p) => p.owner?.kind),
    ['DaemonSet'],
  );
  assert.equal((await kubectl(lab, 'get', 'node', 'k3s-worker-1', '-o', 'json')).stdout.includes('"unschedulable": true'), true);
});

test("GIVEN bad drain flags WHEN parsed THEN kubectl's errors", async () => {
  const lab = await makeLab();
  assert.equal(
    (await kubectl(lab, 'drain', 'k3s-worker-1', '--nope')).stderr,
    "error: unknown flag: --nope\nSee 'kubectl drain --help' for usage.\n",
  );
  assert.match((await kubectl(lab, 'drain', 'k3s-worker-1', '--timeout=abc')).stderr, /invalid duration "abc"/);
  assert.equal((await kubectl(lab, 'drain', 'ghost')).stderr, 'Error from server (NotFound): nodes "ghost" not found\n');
});

test("GIVEN a drain that a PDB blocks WHEN run with 2>&1 in the container's sh THEN stdout and stderr lines come in kubectl's order", async () => {
  const lab = await makeLab();
  const r = await inCt(lab, 100, [
    'sh',
    '-c',
    '/usr/local/bin/kubectl drain k3s-worker-1 --ignore-daemonsets --delete-emptydir-data --timeout=50ms 2>&1',
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  const lines = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.replace(/web-[0-9a-z]+-[0-9a-z]+/g, 'web-X').replace(/svclb-traefik-\S+/g, 'svclb-X'));
  assert.deepEqual(lines, [
    'node/k3s-worker-1 cordoned',
    'Warning: ignoring DaemonSet-managed Pods: kube-system/svclb-X',
    'evicting pod default/web-X',
    'evicting pod vault/vault-0',
    'pod/web-X evicted',
    'error when evicting pods/"vault-0" -n "vault" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.',
    'evicting pod vault/vault-0',
    'There are pending pods in node "k3s-worker-1" when an error occurred: error when evicting pods/"vault-0" -n "vault": global timeout reached: 50ms',
    'pod/vault-0',
    'error: unable to drain node "k3s-worker-1" due to error: error when evicting pods/"vault-0" -n "vault": global timeout reached: 50ms, continuing command...',
    'There are pending nodes to be drained:',
    ' k3s-worker-1',
    'error: error when evicting pods/"vault-0" -n "vault": global timeout reached: 50ms',
  ]);
});

test('GIVEN pods two filters refuse WHEN drained THEN the failure lists both as kubectl does: bracketed in its RunDrain line, one per line at the end', async () => {
  const lab = await makeLab();
  const r = await kubectl(lab, 'drain', 'k3s-worker-2');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'node/k3s-worker-2 cordoned\n');
  const ds = /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/svclb-[^,\]\s]+/.source;
  const local = /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/cache-[^,\]\s]+/.source;
  const lines = r.stderr.trimEnd().split('\n');
  // Go's map order: either error may come first, in both places alike.
  assert.match(
    lines[0]!,
    new RegExp(
      `^error: unable to drain node "k3s-worker-2" due to error: \\[(${ds}, ${local}|${local}, ${ds})\\], continuing command\\.\\.\\.$`,
    ),
  );
  assert.deepEqual(lines.slice(1, 3), ['There are pending nodes to be drained:', ' k3s-worker-2']);
  assert.deepEqual(lines.slice(3), lines[0]!.slice(lines[0]!.indexOf('[') + 1, lines[0]!.indexOf('], continuing')).split(', '));
  assert.equal(lines.length, 5);
});
