/** The install library in-process: the token never in argv or output; pure planning pieces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initLab, renderLabInventory } from '../../src/lab/index.js';
import { parseInventory } from '../../src/inventory/index.js';
import { probeInstall } from '../../src/install/probe.js';
import { planInstall } from '../../src/install/plan.js';
import { runInstall } from '../../src/install/run.js';
import { containerNeeds, applyConfEdit, confReady } from '../../src/install/lxc.js';
import { mergeKubeconfig, rewriteKubeconfig } from '../../src/install/kubeconfig.js';
import { pctCreateArgv, staticIp } from '../../src/install/settings.js';
import { RunError } from '../../src/domain/errors.js';
import type { RunOptions, Shell } from '../../src/shell/shell.js';
import { FAST_TIMING } from '../helpers/lab-cli.js';

interface Call {
  host: string;
  argv: readonly string[];
  stdin: string | undefined;
}

function recording(inner: Shell, calls: Call[]): Shell {
  return {
    host: inner.host,
    close: () => inner.close(),
    run: (argv: readonly string[], opts?: RunOptions) => {
      calls.push({ host: inner.host, argv, stdin: opts?.stdin });
      return inner.run(argv, opts);
    },
  };
}

test('GIVEN an HA install WHEN it runs THEN the token is read over stdout and travels only on stdin of `sh -s`, never in argv or output; a failure quoting it is redacted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-token-'));
  try {
    const lab = await initLab({ dir: join(dir, 'lab'), bare: true, servers: 2, workers: 2, hosts: 2, timing: FAST_TIMING });
    const inv = parseInventory(renderLabInventory(lab), join(dir, 'pve-k3s.yaml'));
    const token = lab.state.token;
    const secrets = [token, token.split('::server:')[1] ?? token];
    lab.addFault({
      match: { vmid: 103, level: 'container', argvPrefix: ['curl'] },
      effect: { exitCode: 1, stderr: `[ERROR]  token ${secrets[1]} refused by https://10.0.20.20:6443\n` },
    });
    const calls: Call[] = [];
    const shells = new Map(inv.hosts.map((h) => [h.name, recording(lab.shell(h.name), calls)]));
    const facts = await probeInstall(inv, shells, { nodes: inv.nodes });
    const plan = planInstall({
      inventory: inv,
      facts,
      nodes: inv.nodes,
      target: { version: 'v1.33.5+k3s1', source: 'pinned' },
      configYaml: 'write-kubeconfig-mode: "0644"\n',
    });
    assert.equal(plan.clusterInit, true);
    const log: string[] = [];
    const err = await runInstall({
      inventory: inv,
      shells,
      plan,
      configYaml: 'write-kubeconfig-mode: "0644"\n',
      log: (l) => log.push(l),
      poll: { minMs: 10, maxMs: 50 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RunError);
    assert.equal(
      err.message,
      'the k3s install script failed in k3s-worker-2 (exit 1): [ERROR]  token *** refused by https://10.0.20.20:6443',
    );
    assert.ok(!(err.detail ?? '').includes(secrets[1] ?? '?'));
    for (const c of calls) for (const a of c.argv) for (const s of secrets) assert.ok(!a.includes(s), `token in argv: ${c.argv.join(' ')}`);
    const withToken = calls.filter((c) => secrets.some((s) => c.stdin?.includes(s)));
    assert.ok(withToken.length >= 2);
    for (const c of withToken) assert.deepEqual(c.argv.slice(0, 2).concat(c.argv.slice(3)), ['pct', 'exec', '--', 'sh', '-s']);
    assert.ok(calls.some((c) => c.argv.join(' ') === 'pct exec 100 -- cat /var/lib/rancher/k3s/server/token'));
    for (const l of log) for (const s of secrets) assert.ok(!l.includes(s), l);
    // config.yaml went to every node before its install.
    const ct = lab.state.hosts.flatMap((h) => h.containers).find((c) => c.vmid === 101);
    assert.equal(ct?.fs['/etc/rancher/k3s/config.yaml']?.content, 'write-kubeconfig-mode: "0644"\n');
    assert.equal(ct?.fs['/etc/rancher/k3s/config.yaml']?.mode, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const CONF = `arch: amd64
features: keyctl=1
hostname: ct
swap: 512
unprivileged: 0
lxc.cgroup.devices.allow: a
parent: snap1

[snap1]
arch: amd64
lxc.apparmor.profile: unconfined
snaptime: 1700000000
`;

test('GIVEN a conf with a cgroup v1 key, lines below a snapshot, features and swap WHEN containerNeeds runs THEN it plans pct set and an edit of the current section only', () => {
  const n = containerNeeds(CONF, 105);
  assert.deepEqual(n.pctSet, ['--features', 'keyctl=1,nesting=1', '--swap', '0']);
  assert.equal(n.blocker, undefined);
  assert.deepEqual(n.changes, [
    'features: keyctl=1,nesting=1',
    'swap: 0',
    'cgroup v1 keys renamed to cgroup2: lxc.cgroup.devices.allow',
    'lxc.apparmor.profile: unconfined, lxc.cap.drop:, lxc.mount.auto: "proc:rw sys:rw" (found only below a [snapshot] section)',
    'lxc.mount.entry: /dev/kmsg dev/kmsg none defaults,bind,create=file',
  ]);
  assert.ok(n.confEdit);
  const text = applyConfEdit(CONF, n.confEdit);
  assert.equal(text.slice(text.indexOf('[snap1]')), CONF.slice(CONF.indexOf('[snap1]')));
  assert.ok(confReady(text), text);
  assert.deepEqual(
    containerNeeds(text.replace('features: keyctl=1', 'features: keyctl=1,nesting=1').replace('swap: 512', 'swap: 0'), 105).changes,
    [],
  );
  assert.equal(containerNeeds('unprivileged: 1\n', 106).blocker, 'container 106 is unprivileged; k3s needs a privileged container');
});

test('GIVEN container settings WHEN pctCreateArgv runs THEN the container is privileged with nesting, no swap, tagged with its role', () => {
  const argv = pctCreateArgv(
    { name: 'w1', vmid: 120, host: 'pve1', role: 'agent' },
    {
      template: 'local:vztmpl/deb.tar.zst',
      storage: 'local-zfs',
      diskSizeGb: 16,
      cores: 2,
      memoryMb: 2048,
      network: 'name=eth0,bridge=vmbr0,ip=dhcp',
      tags: ['k3s'],
    },
  );
  assert.deepEqual(argv, [
    'pct',
    'create',
    '120',
    'local:vztmpl/deb.tar.zst',
    '--hostname',
    'w1',
    '--cores',
    '2',
    '--memory',
    '2048',
    '--swap',
    '0',
    '--rootfs',
    'local-zfs:16',
    '--net0',
    'name=eth0,bridge=vmbr0,ip=dhcp',
    '--unprivileged',
    '0',
    '--features',
    'nesting=1',
    '--onboot',
    '1',
    '--tags',
    'k3s;agent',
  ]);
  assert.equal(staticIp('name=eth0,bridge=vmbr0,ip=10.1.2.3/24,gw=10.1.2.1'), '10.1.2.3');
  assert.equal(staticIp('name=eth0,ip=dhcp'), undefined);
});

test('GIVEN a k3s.yaml WHEN rewritten and merged THEN names become the context, the server the address, other entries stay', () => {
  const k3s = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster: { 'certificate-authority-data': 'CA', server: 'https://127.0.0.1:6443' } }],
    contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
    users: [{ name: 'default', user: { 'client-key-data': 'KEY' } }],
    'current-context': 'default',
  };
  const ours = rewriteKubeconfig(k3s, '10.0.0.5', 'home');
  assert.deepEqual(ours.clusters, [{ name: 'home', cluster: { 'certificate-authority-data': 'CA', server: 'https://10.0.0.5:6443' } }]);
  assert.deepEqual(ours.contexts, [{ name: 'home', context: { cluster: 'home', user: 'home' } }]);
  assert.equal(rewriteKubeconfig(k3s, 'fd00::5', 'x').clusters?.[0]?.cluster.server, 'https://[fd00::5]:6443');
  const existing = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'home', cluster: { server: 'https://old:6443' } },
      { name: 'work', cluster: { server: 'https://work:6443' } },
    ],
    contexts: [],
    users: [],
    'current-context': 'work',
  };
  const merged = mergeKubeconfig(existing, ours);
  assert.deepEqual(
    merged.clusters?.map((c) => [c.name, c.cluster.server]),
    [
      ['work', 'https://work:6443'],
      ['home', 'https://10.0.0.5:6443'],
    ],
  );
  assert.equal(merged['current-context'], 'home');
});
