/** Every validation rule, with the exact message: `<file>:<line>: <field>: <problem>`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InventoryError } from '../../src/domain/errors.js';
import { FILE, FULL, MINIMAL, edit, parseError, problems } from './helpers.js';

const F = FILE;

test('GIVEN a bad vmid WHEN parsed THEN the InventoryError names file, line, field, and says what to do', () => {
  const err = parseError(edit(FULL, 'vmid: 101', 'vmid: 12'));
  assert.ok(err instanceof InventoryError);
  assert.equal(err.message, `${F}:9: nodes.k3s-worker-1.vmid: must be an integer from 100 to 999999999, got 12`);
  assert.equal(err.hint, 'Use the container ID that `pct list` shows on the Proxmox host.');
  assert.equal(err.file, F);
  assert.equal(err.line, 9);
  assert.equal(err.field, 'nodes.k3s-worker-1.vmid');
  assert.equal(err.exitCode, 2);
  assert.equal(err.detail, undefined);
});

test('GIVEN several problems WHEN parsed THEN the first is the message and the others are listed in detail, by line', () => {
  const err = parseError(edit(edit(FULL, 'role: agent', 'role: boss'), 'cluster: homelab', 'cluster: Home'));
  assert.equal(
    err.message,
    `${F}:2: cluster: must be a cluster name of lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters, got "Home"`,
  );
  assert.equal(err.issues.length, 2);
  assert.equal(
    err.detail,
    `- ${F}:10: nodes.k3s-worker-2.role: must be server, agent or worker, got "boss"\n` +
      '  Use `role: server` for a control-plane node, `role: agent` (or `worker`) otherwise.',
  );
});

const cases: [name: string, text: string, expected: string[]][] = [
  [
    'a missing cluster',
    edit(FULL, 'cluster: homelab\n', ''),
    [
      `${F}:2: cluster: missing; must be a cluster name of lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters`,
    ],
  ],
  [
    'a cluster name with uppercase',
    edit(FULL, 'cluster: homelab', 'cluster: HomeLab'),
    [
      `${F}:2: cluster: must be a cluster name of lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters, got "HomeLab"`,
    ],
  ],
  [
    'an unknown top-level key close to a known one',
    edit(FULL, 'controller:', 'controler:'),
    [`${F}:11: controler: unknown key; did you mean "controller"?`],
  ],
  [
    'an unknown key under k3s',
    edit(FULL, '  channel: v1.31', '  chanel: v1.31'),
    [`${F}:13: k3s.chanel: unknown key; did you mean "channel"?`],
  ],
  ['an unknown key with no close match', edit(FULL, '  force: true', '  banana: true'), [`${F}:21: drain.banana: unknown key`]],
  [
    'an unknown key in a node',
    edit(FULL, 'role: server', 'role: server, vmdi: 3'),
    [`${F}:8: nodes.k3s-ctrl-1.vmdi: unknown key; did you mean "vmid"?`],
  ],
  [
    'a host with both ssh and local',
    edit(FULL, '{ local: true }', '{ ssh: pve3, local: true }'),
    [`${F}:6: hosts.pve3.local: sets both ssh and local: set exactly one of ssh, local or lab`],
  ],
  [
    'a host with no access',
    edit(FULL, '{ local: true }', '{}'),
    [`${F}:6: hosts.pve3: says nothing about how to reach it: set exactly one of ssh, local or lab`],
  ],
  ['local: false', edit(FULL, '{ local: true }', '{ local: false }'), [`${F}:6: hosts.pve3.local: must be true, got false`]],
  [
    'sshConfig without ssh',
    edit(FULL, '{ local: true }', '{ local: true, sshConfig: x }'),
    [`${F}:6: hosts.pve3.sshConfig: applies only to a host reached with ssh`],
  ],
  [
    'sshPersist without ssh',
    edit(FULL, '{ local: true }', '{ local: true, sshPersist: false }'),
    [`${F}:6: hosts.pve3.sshPersist: applies only to a host reached with ssh`],
  ],
  [
    'sshPersist: true',
    edit(FULL, 'ssh: root@pve1', 'ssh: root@pve1, sshPersist: true'),
    [
      `${F}:4: hosts.pve1.sshPersist: must be false, or how long the ssh connection stays open after a command (a duration such as 60s or 5m), got true`,
    ],
  ],
  [
    'an ssh destination that starts with "-"',
    edit(FULL, 'ssh: root@pve1', 'ssh: -oProxyCommand=x'),
    [
      `${F}:4: hosts.pve1.ssh: must be an SSH destination (root@pve1, pve1, or an alias from ~/.ssh/config) without spaces, not starting with "-", got "-oProxyCommand=x"`,
    ],
  ],
  [
    'a lab host without a lab section',
    edit(FULL, '{ local: true }', '{ lab: true }'),
    [`${F}:6: hosts.pve3.lab: a lab host needs a top-level lab section`],
  ],
  [
    'a node on an undeclared host',
    edit(FULL, 'host: pve2', 'host: pve9'),
    [`${F}:9: nodes.k3s-worker-1.host: "pve9" is not declared under hosts (declared: pve1, pve2, pve3)`],
  ],
  [
    'a vmid below 100',
    edit(FULL, 'vmid: 101', 'vmid: 99'),
    [`${F}:9: nodes.k3s-worker-1.vmid: must be an integer from 100 to 999999999, got 99`],
  ],
  [
    'a vmid above 999999999',
    edit(FULL, 'vmid: 101', 'vmid: 1000000000'),
    [`${F}:9: nodes.k3s-worker-1.vmid: must be an integer from 100 to 999999999, got 1000000000`],
  ],
  [
    'a fractional vmid',
    edit(FULL, 'vmid: 101', 'vmid: 101.5'),
    [`${F}:9: nodes.k3s-worker-1.vmid: must be an integer from 100 to 999999999, got 101.5`],
  ],
  [
    'a vmid as text',
    edit(FULL, 'vmid: 101', 'vmid: "101"'),
    [`${F}:9: nodes.k3s-worker-1.vmid: must be an integer from 100 to 999999999, got "101"`],
  ],
  ['a missing vmid', edit(FULL, 'vmid: 101, ', ''), [`${F}:9: nodes.k3s-worker-1.vmid: missing; must be an integer from 100 to 999999999`]],
  [
    'two nodes with the same vmid',
    edit(FULL, 'vmid: 102', 'vmid: 100'),
    [`${F}:10: nodes.k3s-worker-2.vmid: 100 is also the vmid of node k3s-ctrl-1`],
  ],
  [
    'an invalid Kubernetes node name',
    edit(FULL, 'k3s-worker-2:', 'K3s_Worker-2:'),
    [`${F}:10: nodes.K3s_Worker-2: is not a valid Kubernetes node name`],
  ],
  [
    'a node name ending with "-"',
    edit(FULL, 'k3s-worker-2:', 'k3s-worker-:'),
    [`${F}:10: nodes.k3s-worker-: is not a valid Kubernetes node name`],
  ],
  [
    'an invalid Proxmox host name',
    edit(FULL, '  pve1: {', '  pve_1: {'),
    [
      `${F}:4: hosts.pve_1: is not a valid Proxmox node name`,
      `${F}:8: nodes.k3s-ctrl-1.host: "pve1" is not declared under hosts (declared: pve_1, pve2, pve3)`,
    ],
  ],
  [
    'no server',
    edit(edit(FULL, 'role: server', 'role: agent'), 'controller: k3s-ctrl-1\n', ''),
    [`${F}:7: nodes: has no server: at least one node needs role: server`],
  ],
  [
    'no nodes',
    `${edit(MINIMAL, '  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }\n', '')}`.replace('nodes:', 'nodes: {}'),
    [`${F}:4: nodes: declares no nodes`],
  ],
  [
    'no hosts',
    MINIMAL.replace('hosts:\n  pve1: { ssh: root@pve1 }', 'hosts: {}'),
    [`${F}:2: hosts: declares no hosts`, `${F}:4: nodes.k3s-ctrl-1.host: "pve1" is not declared under hosts (none are declared)`],
  ],
  [
    'missing hosts and nodes',
    'cluster: homelab\n',
    [
      `${F}:1: hosts: missing; must be a mapping of Proxmox node names to how to reach them`,
      `${F}:1: nodes: missing; must be a mapping of Kubernetes node names to containers`,
    ],
  ],
  [
    'a controller that is an agent',
    edit(FULL, 'controller: k3s-ctrl-1', 'controller: k3s-worker-1'),
    [`${F}:11: controller: "k3s-worker-1" is an agent, not a server (servers: k3s-ctrl-1)`],
  ],
  [
    'a controller that is not a node',
    edit(FULL, 'controller: k3s-ctrl-1', 'controller: k3s-ctrl-9'),
    [`${F}:11: controller: "k3s-ctrl-9" is not a node (servers: k3s-ctrl-1)`],
  ],
  [
    'an invalid role',
    edit(FULL, 'role: agent', 'role: master'),
    [`${F}:10: nodes.k3s-worker-2.role: must be server, agent or worker, got "master"`],
  ],
  [
    'a version that is not a k3s version',
    edit(FULL, 'version: v1.33.5+k3s1', 'version: v1.33.5'),
    [`${F}:14: k3s.version: must be a k3s version such as v1.33.5+k3s1, got "v1.33.5"`],
  ],
  [
    'a channel with a slash',
    edit(FULL, 'channel: v1.31', 'channel: ../x'),
    [`${F}:13: k3s.channel: must be a channel id such as stable, latest, testing or v1.31, got "../x"`],
  ],
  [
    'an ftp channel URL',
    edit(FULL, 'channelUrl: https://mirror.example/v1-release/channels', 'channelUrl: ftp://mirror.example/c'),
    [`${F}:15: k3s.channelUrl: must be an http(s) URL, or \`lab\`, got "ftp://mirror.example/c"`],
  ],
  [
    'an install script URL that is not a URL',
    edit(FULL, 'installScriptUrl: https://mirror.example/install.sh', 'installScriptUrl: get.k3s.io'),
    [`${F}:16: k3s.installScriptUrl: must be an http(s) URL, got "get.k3s.io"`],
  ],
  [
    'channelUrl lab without a lab section',
    edit(FULL, 'channelUrl: https://mirror.example/v1-release/channels', 'channelUrl: lab'),
    [`${F}:15: k3s.channelUrl: \`lab\` needs a top-level lab section`],
  ],
  [
    'a duration with an unknown unit',
    edit(FULL, 'timeout: 1m30s', 'timeout: 2d'),
    [`${F}:22: drain.timeout: must be a positive duration: seconds (90) or units ("90s", "5m", "1h", "1m30s"), got "2d"`],
  ],
  [
    'a zero duration',
    edit(FULL, 'readyTimeout: 1h', 'readyTimeout: 0s'),
    [`${F}:27: upgrade.readyTimeout: must be a positive duration: seconds (90) or units ("90s", "5m", "1h", "1m30s"), got "0s"`],
  ],
  [
    'a negative duration',
    edit(FULL, 'gracePeriod: 45', 'gracePeriod: -5'),
    [`${F}:23: drain.gracePeriod: must be a positive duration: seconds (90) or units ("90s", "5m", "1h", "1m30s"), got -5`],
  ],
  ['a boolean written as text', edit(FULL, 'force: true', 'force: "yes"'), [`${F}:21: drain.force: must be true or false, got "yes"`]],
  [
    'an invalid upgrade order',
    edit(FULL, 'order: workers-first', 'order: random'),
    [`${F}:25: upgrade.order: must be auto, workers-first or servers-first, got "random"`],
  ],
  [
    'an invalid drainServers',
    edit(FULL, 'drainServers: never', 'drainServers: sometimes'),
    [`${F}:28: upgrade.drainServers: must be auto, always or never, got "sometimes"`],
  ],
  [
    'a section that is a list',
    edit(FULL, 'upgrade:\n  order: workers-first\n  allowSkew: true\n  readyTimeout: 1h\n  drainServers: never\n', 'upgrade: [a]\n'),
    [`${F}:24: upgrade: must be a mapping, got a list`],
  ],
  [
    'a lab section without dir',
    `${edit(MINIMAL, '{ ssh: root@pve1 }', '{ lab: true }')}lab: {}\n`,
    [`${F}:6: lab.dir: missing; must be the path of the lab's state directory`],
  ],
];

for (const [name, text, expected] of cases) {
  test(`GIVEN ${name} WHEN parsed THEN the error names file, line and field`, () => {
    assert.deepEqual(problems(text), expected);
  });
}

test('GIVEN an unknown key WHEN rejected THEN the hint lists the valid keys', () => {
  const err = parseError(edit(FULL, '  channel: v1.31', '  chanel: v1.31'));
  assert.equal(err.hint, 'Valid keys under k3s: channel, version, channelUrl, installScriptUrl.');
  assert.equal(
    parseError(`${MINIMAL}clutser: x\n`).hint,
    'Valid keys at the top level: cluster, hosts, nodes, controller, k3s, drain, upgrade, lab, container, install.',
  );
});

test('GIVEN a node name with a dot and a bad vmid WHEN rejected THEN the field quotes the name', () => {
  assert.deepEqual(problems(edit(FULL, 'k3s-worker-2: { vmid: 102', 'w2.lan: { vmid: 1')), [
    `${F}:10: nodes["w2.lan"].vmid: must be an integer from 100 to 999999999, got 1`,
  ]);
});

test('GIVEN problems in several places WHEN parsed THEN all are reported in line order', () => {
  const text = edit(edit(edit(FULL, 'cluster: homelab', 'cluster: -x'), 'vmid: 101', 'vmid: 1'), 'order: workers-first', 'order: x');
  assert.deepEqual(
    problems(text).map((p) => p.split(': ')[0]),
    [`${F}:2`, `${F}:9`, `${F}:25`],
  );
});
