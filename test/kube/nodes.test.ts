import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodeList, parseJsonOutput, KubeParseError } from '../../src/kube/nodes.js';
import { drainArgs } from '../../src/kube/kube.js';
import { fixture } from '../helpers/fixtures.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatch, parseBatch } from '../../src/proxmox/batch.js';

test('GIVEN real `kubectl get nodes -o json` WHEN parsed THEN Ready, schedulability, kubelet version and role are read', () => {
  const nodes = parseNodeList(fixture('kubectl-get-nodes.json'));
  assert.deepEqual([...nodes.keys()], ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']);
  const ctrl = nodes.get('k3s-ctrl-1')!;
  assert.equal(ctrl.ready, true);
  assert.equal(ctrl.schedulable, true);
  assert.equal(ctrl.kubeletVersion?.raw, 'v1.30.4+k3s1');
  assert.equal(ctrl.k3sRole, 'server');
  assert.equal(nodes.get('k3s-worker-1')!.schedulable, false);
  assert.equal(nodes.get('k3s-worker-3')!.ready, false);
  assert.equal(nodes.get('k3s-worker-3')!.kubeletVersion?.raw, 'v1.29.9+k3s1');
});

test('GIVEN a kubectl that warns on stderr WHEN a batch runs it in a real sh THEN its JSON is its stdout and the warning its stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-kubectl-'));
  writeFileSync(join(dir, 'nodes.json'), fixture('kubectl-get-nodes.json'));
  const kubectl = join(dir, 'kubectl');
  writeFileSync(kubectl, `#!/bin/sh\ncat "${dir}/nodes.json"\necho 'W1123 12:00:00 warnings.go:70] something deprecated' >&2\n`, {
    mode: 0o755,
  });
  const batch = buildBatch([{ argv: [kubectl, 'get', 'nodes', '-o', 'json'] }]);
  const [r] = parseBatch(spawnSync('/bin/sh', ['-s'], { input: batch.script, encoding: 'utf8' }), batch);
  assert.equal(r!.code, 0);
  assert.equal(parseNodeList(r!.stdout).size, 4);
  assert.equal(r!.stderr, 'W1123 12:00:00 warnings.go:70] something deprecated\n');
});

test('GIVEN stdout with something before the JSON WHEN parsed THEN it is refused, not guessed at', () => {
  const text = 'W1123 12:00:00 warnings.go:70] something deprecated\n' + fixture('kubectl-get-nodes.json');
  assert.throws(() => parseNodeList(text), /kubectl output is not valid JSON .*: W1123 12:00:00 warnings.go:70\] something deprecated$/);
  assert.throws(() => parseJsonOutput(' \n'), /kubectl printed no JSON \(empty output\)/);
});

test('GIVEN kubectl output that is not JSON WHEN parsed THEN a clear error says so', () => {
  assert.throws(
    () => parseJsonOutput('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?'),
    KubeParseError,
  );
  assert.throws(() => parseNodeList('{"kind":"Status"}'), /no "items" list/);
});

test('GIVEN drain policies WHEN turned into argv THEN the flags are those of kubectl drain', () => {
  const base = {
    ignoreDaemonsets: true,
    deleteEmptydirData: true,
    disableEviction: true,
    force: false,
    timeoutSeconds: 300,
    gracePeriodSeconds: undefined,
    skipWaitForDeleteTimeoutSeconds: undefined,
    onTimeout: 'fail' as const,
  };
  assert.deepEqual(drainArgs('k3s-worker-1', base), [
    'drain',
    'k3s-worker-1',
    '--ignore-daemonsets',
    '--delete-emptydir-data',
    '--disable-eviction',
    '--timeout=300s',
  ]);
  assert.deepEqual(drainArgs('n', { ...base, disableEviction: false, force: true, gracePeriodSeconds: 30, timeoutSeconds: 60 }), [
    'drain',
    'n',
    '--ignore-daemonsets',
    '--delete-emptydir-data',
    '--force',
    '--grace-period=30',
    '--timeout=60s',
  ]);
});
