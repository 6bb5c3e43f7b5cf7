import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importAnsible } from '../../src/import/ansible.js';
import { InventoryValidationError, formatIssue } from '../../src/inventory/issues.js';
import { InventoryError } from '../../src/domain/errors.js';

function write(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-import-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
const run = (file: string) => importAnsible(file, { outFile: '/tmp/out/pve-k3s.yaml', home: '/home/ops' });
async function problems(file: string): Promise<string[]> {
  try {
    await run(file);
  } catch (e) {
    assert.ok(e instanceof InventoryValidationError, String(e));
    return e.issues.map((i) => formatIssue('inv', i));
  }
  assert.fail('expected a rejection');
}

test('k3s-io/k3s-ansible YAML with vmid and pve_host host vars; the token is referenced, not copied', async () => {
  const dir = write({
    'homelab/inventory.yml': `---
k3s_cluster:
  children:
    server:
      hosts:
        k3s-ctrl-1:
          ansible_host: 10.0.20.20
          vmid: 100
          pve_host: pve1
    agent:
      hosts:
        k3s-worker-1: { ansible_host: 10.0.20.21, vmid: 101, pve_host: pve1 }
        k3s-worker-2: { ansible_host: 10.0.20.22, vmid: 102, pve_host: pve2 }
  vars:
    ansible_port: 22
    ansible_user: debian
    k3s_version: v1.31.12+k3s1
    token: "changeme!"
    api_endpoint: "{{ hostvars[groups['server'][0]]['ansible_host'] | default(groups['server'][0]) }}"
    extra_server_args: "--disable traefik"
    cluster_context: k3s-ansible
`,
  });
  const r = await run(join(dir, 'homelab/inventory.yml'));
  assert.equal(r.format, 'yaml');
  assert.equal(
    r.text.replaceAll(dir, '<dir>'),
    `# pve-k3s inventory (format: docs/inventory.md), imported from <dir>/homelab/inventory.yml by \`pve-k3s import ansible\`.
# token (group k3s_cluster, <dir>/homelab/inventory.yml:18) was not copied: pve-k3s reads each node's token from the node itself (/var/lib/rancher/k3s/server/token on a server, the k3s service env file on an agent). Keep the Ansible copy in ansible-vault or a 0600 file outside the inventory.

cluster: k3s-ansible
hosts:
  pve1: { ssh: root@pve1 }
  pve2: { ssh: root@pve2 }
nodes:
  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }
  k3s-worker-1: { vmid: 101, host: pve1, role: agent }
  k3s-worker-2: { vmid: 102, host: pve2, role: agent }
k3s:
  version: v1.31.12+k3s1
`,
  );
  assert.ok(!r.text.includes('changeme'));
  assert.deepEqual(
    r.notes.map((n) => `${n.where.replace(dir, '<dir>')}: ${n.what}: ${n.why}`),
    [
      '<dir>/homelab/inventory.yml:7: ansible_host: not needed: pve-k3s reaches containers with pct exec on their Proxmox host, not over SSH',
      '<dir>/homelab/inventory.yml:15: ansible_port: not needed: pve-k3s reaches containers with pct exec on their Proxmox host, not over SSH',
      '<dir>/homelab/inventory.yml:16: ansible_user: not needed: pve-k3s reaches containers with pct exec on their Proxmox host, not over SSH',
      "<dir>/homelab/inventory.yml:19: api_endpoint: not needed: pve-k3s keeps each node's own server URL (read from its k3s service)",
      "<dir>/homelab/inventory.yml:20: extra_server_args: not needed: pve-k3s keeps each server's own arguments (read from its k3s service on every upgrade)",
      '<dir>/homelab/inventory.yml:21: cluster_context: not needed: used as the cluster name',
    ],
  );
});

test('k3s-io sample as shipped (IPs, no vmids): no server can be mapped, each host says why', async () => {
  const dir = write({
    'inventory.yml':
      'k3s_cluster:\n  children:\n    server:\n      hosts:\n        192.16.35.11:\n    agent:\n      hosts:\n        192.16.35.12:\n',
  });
  await assert.rejects(run(join(dir, 'inventory.yml')), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(e.message, `${join(dir, 'inventory.yml')}: no k3s server could be mapped, so there is no valid inventory to write`);
    assert.match(
      e.detail ?? '',
      /inventory\.yml:5: host 192\.16\.35\.11: no vmid \(set vmid=<id> on the host, or match it to its container with --discover <proxmox host>\); left out/,
    );
    return true;
  });
});

test('techno-tim INI: [master], [node], [k3s_cluster:children], [proxmox], proxmox_lxc_ct_ids in group_vars/all.yml', async () => {
  const dir = write({
    'inventory/my-cluster/hosts.ini': `[master]
192.168.30.38
192.168.30.39

[node]
192.168.30.41

# must contain all proxmox instances that have a master or worker node
[proxmox]
192.168.30.43

[k3s_cluster:children]
master
node
`,
    'inventory/my-cluster/group_vars/all.yml': `k3s_version: v1.30.2+k3s2
ansible_user: ansibleuser
systemd_dir: /etc/systemd/system
system_timezone: "America/New_York"
apiserver_endpoint: 192.168.30.222
k3s_token: "some-SUPER-DEDEUPER-secret-password"
proxmox_lxc_configure: true
proxmox_lxc_ct_ids:
  - 200
  - 201
  - 202
`,
  });
  const r = await run(join(dir, 'inventory/my-cluster/hosts.ini'));
  assert.equal(r.format, 'ini');
  assert.equal(r.cluster, 'my-cluster');
  assert.deepEqual(r.nodes, [
    { name: '192.168.30.38', vmid: 200, host: '192.168.30.43', role: 'server' },
    { name: '192.168.30.39', vmid: 201, host: '192.168.30.43', role: 'server' },
    { name: '192.168.30.41', vmid: 202, host: '192.168.30.43', role: 'agent' },
  ]);
  assert.match(r.text, /^# vmids paired in order with the hosts from proxmox_lxc_ct_ids/m);
  assert.match(r.text, /^# k3s_token \(group all, .*group_vars\/all\.yml:6\) was not copied/m);
  assert.ok(!r.text.includes('SUPER-DEDEUPER'));
  assert.deepEqual(
    r.notes.map((n) => n.what),
    ['ansible_user', 'systemd_dir', 'system_timezone', 'apiserver_endpoint', 'proxmox_lxc_configure', 'proxmox_lxc_ct_ids'],
  );
  assert.equal(r.notes.find((n) => n.what === 'system_timezone')?.why, 'no pve-k3s equivalent; not mapped');
});

test('plain INI with vmid/pve_host host vars, ranges, [x:vars] and proxmox hosts with ansible_host', async () => {
  const dir = write({
    hosts: `[proxmox]
pve-a ansible_host=10.0.0.11
pve-b ansible_host=10.0.0.12

[servers]
k3s-ctrl vmid=300 pve_host=pve-a  # the first one

[workers]
k3s-worker-[1:2] pve_host=pve-b
k3s-worker-3 vmid=303 pve_host=pve-a

[workers:vars]
k3s_version=v1.33.5+k3s1
`,
  });
  // the range hosts have no vmid: left out and listed
  const r = await run(join(dir, 'hosts'));
  assert.equal(r.format, 'ini');
  assert.deepEqual(r.hosts, [{ name: 'pve-a', ssh: 'root@10.0.0.11' }]);
  assert.deepEqual(
    r.nodes.map((n) => `${n.name} ${n.vmid} ${n.host} ${n.role}`),
    ['k3s-ctrl 300 pve-a server', 'k3s-worker-3 303 pve-a agent'],
  );
  assert.deepEqual(
    r.notes.map((n) => `${n.where.replace(dir, '<dir>')}: ${n.what}: ${n.why}`),
    [
      '<dir>/hosts:9: host k3s-worker-1: no vmid (set vmid=<id> on the host, or match it to its container with --discover <proxmox host>); left out',
      '<dir>/hosts:9: host k3s-worker-2: no vmid (set vmid=<id> on the host, or match it to its container with --discover <proxmox host>); left out',
    ],
  );
});

test('malformed INI: every problem with its line and field', async () => {
  const dir = write({
    'bad.ini': `[servers
[workers:hostvars]
[servers]
k3s-ctrl vmid=300 pve_host="pve-a
k3s-w1 vmid
[servers:vars]
just words
[node[1:x]]
[agents]
node[1:x]
`,
  });
  assert.deepEqual(await problems(join(dir, 'bad.ini')), [
    'inv:1: malformed section header "[servers"',
    'inv:2: unknown section type ":hostvars" in [workers:hostvars]',
    'inv:4: unclosed " quote',
    'inv:5: k3s-w1: host k3s-w1: expected key=value, got "vmid"',
    'inv:7: vars: expected key=value in [servers:vars], got "just words"',
    'inv:8: malformed section header "[node[1:x]]"',
    'inv:10: bad host range "node[1:x]"',
  ]);
});

test('malformed YAML: syntax, hosts as a list, unknown group key, a scalar group, empty file', async () => {
  const dir = write({
    'syntax.yml': 'k3s_cluster:\n  children: [server\n',
    'shape.yml': `k3s_cluster:
  children:
    server:
      hosts:
        - k3s-ctrl-1
    agent:
      host:
        k3s-worker-1:
  vars:
    k3s_version: v1.31.2+k3s1
other: 3
`,
    'empty.yml': '# nothing\n',
    'list.yml': '- a\n- b\n',
  });
  assert.match((await problems(join(dir, 'syntax.yml')))[0] ?? '', /^inv:3:1: YAML syntax error: /);
  assert.deepEqual(await problems(join(dir, 'shape.yml')), [
    'inv:5: k3s_cluster.children.server.hosts: must be a mapping of host names (each followed by ":"), got a list',
    'inv:7: k3s_cluster.children.agent.host: unknown key in group agent; a group has hosts:, vars: and children:',
    'inv:11: other: a group must be a mapping with hosts:, vars: or children:',
  ]);
  assert.deepEqual(await problems(join(dir, 'empty.yml')), ['inv:1: the file is empty']);
  assert.deepEqual(await problems(join(dir, 'list.yml')), [
    'inv:1: the top level must map group names to groups (all:, k3s_cluster:, ...)',
  ]);
});

test('GIVEN group names in the users own words WHEN read THEN their words give the role (server words win, proxmox groups none)', async () => {
  const { groupRole } = await import('../../src/import/map.js');
  const cases: Record<string, 'server' | 'agent' | undefined> = {
    server: 'server',
    masters: 'server',
    k3s_controller: 'server',
    'control-plane': 'server',
    control_plane_nodes: 'server',
    K3S_CP: 'server',
    controllers: 'server',
    k3s_workers: 'agent',
    worker: 'agent',
    nodes: 'agent',
    'k3s.agents': 'agent',
    k3s_cluster: undefined,
    all: undefined,
    pve_nodes: undefined,
    proxmox: undefined,
    serverless: undefined,
  };
  for (const [group, role] of Object.entries(cases)) assert.equal(groupRole(group), role, group);
  const dir = write({
    'hosts.ini': `[k3s_controller]
k3s-ctrl-1 vmid=101 pve_host=pve1

[k3s_workers]
k3s-worker-1 vmid=102 pve_host=pve1
k3s-worker-2 vmid=103 pve_host=pve2

[monitoring]
grafana vmid=200 pve_host=pve1
`,
  });
  const r = await run(join(dir, 'hosts.ini'));
  assert.deepEqual(
    r.nodes.map((n) => [n.name, n.role]),
    [
      ['k3s-ctrl-1', 'server'],
      ['k3s-worker-1', 'agent'],
      ['k3s-worker-2', 'agent'],
    ],
  );
  assert.match(
    r.notes.map((n) => n.why).join('\n'),
    /^in no k3s group \(a group named with a word such as server, master, controller, control, cp for servers, or agent, node, worker for agents\) nor a proxmox group; left out$/m,
  );
});
