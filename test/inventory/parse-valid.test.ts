import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Inventory } from '../../src/inventory/index.js';
import { FILE, FULL, MINIMAL, edit, parse } from './helpers.js';

test('GIVEN a file with every section WHEN parsed THEN every value is read and normalised', () => {
  const expected: Inventory = {
    file: FILE,
    cluster: 'homelab',
    hosts: [
      { name: 'pve1', access: { kind: 'ssh', destination: 'root@pve1' } },
      { name: 'pve2', access: { kind: 'ssh', destination: 'pve2', configFile: '/home/ops/.ssh/config-lab' } },
      { name: 'pve3', access: { kind: 'local' } },
    ],
    nodes: [
      { name: 'k3s-ctrl-1', vmid: 100, host: 'pve1', role: 'server' },
      { name: 'k3s-worker-1', vmid: 101, host: 'pve2', role: 'agent' },
      { name: 'k3s-worker-2', vmid: 102, host: 'pve3', role: 'agent' },
    ],
    controller: 'k3s-ctrl-1',
    k3s: {
      channel: 'v1.31',
      version: 'v1.33.5+k3s1',
      channelUrl: 'https://mirror.example/v1-release/channels',
      installScriptUrl: 'https://mirror.example/install.sh',
    },
    drain: {
      ignoreDaemonsets: false,
      deleteEmptydirData: false,
      disableEviction: false,
      force: true,
      timeoutSeconds: 90,
      gracePeriodSeconds: 45,
      skipWaitForDeleteTimeoutSeconds: undefined,
      onTimeout: 'fail',
    },
    upgrade: {
      order: 'workers-first',
      allowSkew: true,
      readyTimeoutSeconds: 3600,
      drainServers: 'never',
      snapshot: false,
      snapshotRetention: 2,
      parallel: 1,
    },
    providers: {},
  };
  assert.deepEqual(parse(FULL), expected);
});

test('GIVEN only cluster, hosts and nodes WHEN parsed THEN the documented defaults apply', () => {
  const inv = parse(MINIMAL);
  assert.equal(inv.controller, 'k3s-ctrl-1');
  assert.deepEqual(inv.k3s, {
    channel: 'stable',
    version: undefined,
    channelUrl: 'https://update.k3s.io/v1-release/channels',
    installScriptUrl: 'https://get.k3s.io',
  });
  assert.deepEqual(inv.drain, {
    ignoreDaemonsets: true,
    deleteEmptydirData: true,
    disableEviction: true,
    force: false,
    timeoutSeconds: 300,
    gracePeriodSeconds: undefined,
    skipWaitForDeleteTimeoutSeconds: undefined,
    onTimeout: 'fail',
  });
  assert.deepEqual(inv.upgrade, {
    order: 'auto',
    allowSkew: false,
    readyTimeoutSeconds: 600,
    drainServers: 'auto',
    snapshot: false,
    snapshotRetention: 2,
    parallel: 1,
  });
  assert.deepEqual(inv.providers, {});
});

test('GIVEN empty sections (k3s:, drain:) and empty optional values WHEN parsed THEN defaults apply', () => {
  const inv = parse(`${MINIMAL}controller:\nk3s:\n  version:\ndrain:\nupgrade: {}\n`);
  assert.equal(inv.controller, 'k3s-ctrl-1');
  assert.equal(inv.k3s.version, undefined);
  assert.equal(inv.drain.timeoutSeconds, 300);
});

test('GIVEN several servers and no controller WHEN parsed THEN the first server in file order is the controller', () => {
  const inv = parse(
    edit(
      MINIMAL,
      '  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }\n',
      [
        '  k3s-worker-1: { vmid: 103, host: pve1, role: agent }\n',
        '  k3s-ctrl-2: { vmid: 102, host: pve1, role: server }\n',
        '  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }\n',
      ].join(''),
    ),
  );
  assert.equal(inv.controller, 'k3s-ctrl-2');
});

test('GIVEN node names that look like numbers WHEN parsed THEN nodes keep the file order', () => {
  const inv = parse(
    edit(
      MINIMAL,
      '  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }\n',
      [
        '  node-b: { vmid: 100, host: pve1, role: server }\n',
        '  "20": { vmid: 101, host: pve1, role: agent }\n',
        '  3: { vmid: 102, host: pve1, role: agent }\n',
      ].join(''),
    ),
  );
  assert.deepEqual(
    inv.nodes.map((n) => n.name),
    ['node-b', '20', '3'],
  );
});

test('GIVEN durations in every accepted form WHEN parsed THEN they become seconds', () => {
  const cases: [string, number][] = [
    ['90', 90],
    ['"90"', 90],
    ['"90s"', 90],
    ['5m', 300],
    ['1h', 3600],
    ['1m30s', 90],
    ['1h0m5s', 3605],
  ];
  for (const [text, seconds] of cases) {
    assert.equal(parse(`${MINIMAL}drain:\n  timeout: ${text}\n`).drain.timeoutSeconds, seconds, text);
  }
});

test('GIVEN a relative lab dir and a relative sshConfig WHEN parsed THEN they resolve against the file directory', () => {
  const text = edit(MINIMAL, '{ ssh: root@pve1 }', '{ ssh: root@pve1, sshConfig: ssh/config }') + 'lab:\n  dir: lab-state\n';
  const inv = parse(text);
  assert.deepEqual(inv.hosts[0]?.access, { kind: 'ssh', destination: 'root@pve1', configFile: '/srv/pve-k3s/ssh/config' });
  assert.deepEqual(inv.providers, { lab: { dir: '/srv/pve-k3s/lab-state' } });
});

test('GIVEN sshPersist WHEN parsed THEN false or the duration in seconds reaches the host access', () => {
  const off = parse(edit(MINIMAL, '{ ssh: root@pve1 }', '{ ssh: root@pve1, sshPersist: false }'));
  assert.deepEqual(off.hosts[0]?.access, { kind: 'ssh', destination: 'root@pve1', persist: false });
  const five = parse(edit(MINIMAL, '{ ssh: root@pve1 }', '{ ssh: root@pve1, sshPersist: 5m }'));
  assert.deepEqual(five.hosts[0]?.access, { kind: 'ssh', destination: 'root@pve1', persist: 300 });
});

test('GIVEN lab hosts, a lab section and channelUrl lab WHEN parsed THEN the lab settings are read', () => {
  const text = edit(MINIMAL, '{ ssh: root@pve1 }', '{ lab: true }') + 'k3s:\n  channelUrl: lab\nlab:\n  dir: ~/lab\n';
  const inv = parse(text);
  // the file's lab spelling is the lab's shell provider
  assert.deepEqual(inv.hosts, [{ name: 'pve1', access: { kind: 'provider', provider: 'lab' } }]);
  assert.deepEqual(inv.k3s.channelUrl, { provider: 'lab' });
  assert.deepEqual(inv.providers, { lab: { dir: '/home/ops/lab' } });
});

test('GIVEN an http (not https) channel URL WHEN parsed THEN it is accepted', () => {
  assert.equal(parse(`${MINIMAL}k3s:\n  channelUrl: http://10.0.0.5:8080/channels\n`).k3s.channelUrl, 'http://10.0.0.5:8080/channels');
});

test('GIVEN a relative file name WHEN parsed THEN Inventory.file is absolute', async () => {
  const { parseInventory } = await import('../../src/inventory/index.js');
  const { resolve } = await import('node:path');
  assert.equal(parseInventory(MINIMAL, 'pve-k3s.yaml').file, resolve('pve-k3s.yaml'));
});
