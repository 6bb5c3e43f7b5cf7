// `import ansible --discover`: Ansible hosts with no vmid matched to the containers discover
// finds on the lab, by address (net0 ip=, the node's InternalIP) or hostname; never guessed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLab } from '../lab/helpers.js';
import { discover } from '../../src/discover/discover.js';
import { accessValue } from '../../src/discover/merge.js';
import { importAnsible } from '../../src/import/ansible.js';
import type { FoundContainers } from '../../src/import/map.js';
import { InventoryError } from '../../src/domain/errors.js';
import type { Lab } from '../../src/lab/index.js';

async function found(lab: Lab, hosts = ['pve1', 'pve2']): Promise<FoundContainers> {
  const d = await discover(
    hosts.map((h) => ({ shell: lab.shell(h), access: { kind: 'provider' as const, provider: 'lab' }, node: h })),
    { all: true, nodeAddresses: true },
  );
  return {
    searched: hosts.map((h) => `lab:${h}`),
    nodes: d.nodes,
    skipped: d.skipped,
    hostEntries: new Map(d.hosts.map((h) => [h.name, accessValue(h.access!)])),
    settings: { sections: { lab: { dir: lab.dir } }, k3s: { channelUrl: 'lab', installScriptUrl: lab.state.installScriptUrl } },
  };
}

function write(name: string, text: string, groupVarsAll?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-import-'));
  writeFileSync(join(dir, name), text);
  if (groupVarsAll !== undefined) {
    mkdirSync(join(dir, 'group_vars'));
    writeFileSync(join(dir, 'group_vars', 'all.yml'), groupVarsAll);
  }
  return join(dir, name);
}

const run = (file: string, f: FoundContainers) => importAnsible(file, { outFile: '/tmp/out/pve-k3s.yaml', home: '/home/ops', found: f });

/** k3s-io/k3s-ansible's inventory-sample.yml, with the lab's addresses. */
const K3S_ANSIBLE = `---
k3s_cluster:
  children:
    server:
      hosts:
        10.0.20.20:
    agent:
      hosts:
        10.0.20.21:
        10.0.20.22:
        10.0.20.23:

  # Required Vars
  vars:
    ansible_port: 22
    ansible_user: debian
    k3s_version: v1.31.12+k3s1
    token: "changeme!"
    api_endpoint: "{{ hostvars[groups['server'][0]]['ansible_host'] | default(groups['server'][0]) }}"
`;

test('discover: each container carries its net0 address and its node InternalIP', async () => {
  const lab = await makeLab();
  const d = await discover(
    ['pve1', 'pve2'].map((h) => ({ shell: lab.shell(h), access: { kind: 'provider' as const, provider: 'lab' }, node: h })),
    { all: true, nodeAddresses: true },
  );
  assert.deepEqual(
    d.nodes.map((n) => `${n.name} ${n.addresses.map((a) => `${a.address}(${a.from})`).join(' ')}`),
    ['k3s-ctrl-1 10.0.20.20(net0)', 'k3s-worker-1 10.0.20.21(net0)', 'k3s-worker-2 10.0.20.22(net0)', 'k3s-worker-3 10.0.20.23(net0)'],
  );
  assert.deepEqual(
    d.skipped.map((s) => `${s.vmid} ${s.addresses.map((a) => a.address).join(' ')}`),
    ['110 10.0.20.5'],
  );
  assert.equal(d.roundTrips, 5, 'listing and probe per host, then one kubectl get nodes');
  // without nodeAddresses: no kubectl round trip
  const plain = await discover(
    ['pve1', 'pve2'].map((h) => ({ shell: lab.shell(h), access: { kind: 'provider' as const, provider: 'lab' }, node: h })),
  );
  assert.equal(plain.roundTrips, 4);
});

test('k3s-io/k3s-ansible inventory (hosts by IP only) imported against the lab: vmid, Proxmox host and node name from discovery', async () => {
  const lab = await makeLab();
  const file = write('inventory.yml', K3S_ANSIBLE);
  const r = await run(file, await found(lab));
  assert.equal(
    r.text.replaceAll(file, '<file>').replace(lab.dir, '<lab>'),
    `# pve-k3s inventory (format: docs/inventory.md), imported from <file> by \`pve-k3s import ansible\`.
# 10.0.20.20 is k3s-ctrl-1 (CT 100 on pve1), matched by address 10.0.20.20 (net0)
# 10.0.20.21 is k3s-worker-1 (CT 101 on pve1), matched by address 10.0.20.21 (net0)
# 10.0.20.22 is k3s-worker-2 (CT 102 on pve2), matched by address 10.0.20.22 (net0)
# 10.0.20.23 is k3s-worker-3 (CT 103 on pve2), matched by address 10.0.20.23 (net0)
# token (group k3s_cluster, <file>:18) was not copied: pve-k3s reads each node's token from the node itself (/var/lib/rancher/k3s/server/token on a server, the k3s service env file on an agent). Keep the Ansible copy in ansible-vault or a 0600 file outside the inventory.

cluster: ${r.cluster}
hosts:
  pve1: { lab: true }
  pve2: { lab: true }
nodes:
  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }
  k3s-worker-1: { vmid: 101, host: pve1, role: agent }
  k3s-worker-2: { vmid: 102, host: pve2, role: agent }
  k3s-worker-3: { vmid: 103, host: pve2, role: agent }
k3s:
  channelUrl: lab
  installScriptUrl: ${lab.state.installScriptUrl}
  version: v1.31.12+k3s1
lab:
  dir: <lab>
`,
  );
  assert.deepEqual(
    r.matches.map((m) => `${m.ansibleHost} ${m.vmid} ${m.by}`),
    [
      '10.0.20.20 100 address 10.0.20.20 (net0)',
      '10.0.20.21 101 address 10.0.20.21 (net0)',
      '10.0.20.22 102 address 10.0.20.22 (net0)',
      '10.0.20.23 103 address 10.0.20.23 (net0)',
    ],
  );
});

test('a container on DHCP (no ip= in its net0) is matched by its node InternalIP; a host by its hostname', async () => {
  const lab = await makeLab();
  lab.update((s) => {
    const ct = s.hosts[1]!.containers.find((c) => c.vmid === 103)!;
    ct.config = ct.config.map(([k, v]) => [k, k === 'net0' ? v.replace(/ip=[^,]+/, 'ip=dhcp').replace(/gw=[^,]+,/, '') : v]);
  });
  const file = write('hosts.ini', '[server]\nk3s-ctrl-1.lan\n\n[agent]\n10.0.20.21\nworker-3 ansible_host=10.0.20.23\n');
  const r = await run(file, await found(lab));
  assert.deepEqual(
    r.matches.map((m) => `${m.ansibleHost} -> ${m.name} ${m.vmid} ${m.host} by ${m.by}`),
    [
      'k3s-ctrl-1.lan -> k3s-ctrl-1 100 pve1 by hostname k3s-ctrl-1',
      '10.0.20.21 -> k3s-worker-1 101 pve1 by address 10.0.20.21 (net0)',
      'worker-3 -> k3s-worker-3 103 pve2 by address 10.0.20.23 (InternalIP)',
    ],
  );
});

test('unmatched and ambiguous hosts are listed with what to do, and nothing is written', async () => {
  const lab = await makeLab();
  // CT 102 gets a second address that CT 101 has too
  lab.update((s) => {
    const ct = s.hosts[1]!.containers.find((c) => c.vmid === 102)!;
    ct.config.push(['net1', 'name=eth1,bridge=vmbr1,hwaddr=BC:24:11:00:02:02,ip=10.0.20.21/24,type=veth']);
  });
  const file = write('inventory.yml', K3S_ANSIBLE.replace('10.0.20.23:', '10.0.20.99:\n        10.0.20.5:'));
  await assert.rejects(run(file, await found(lab)), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(e.exitCode, 2);
    assert.equal(e.message, `${file}: 3 hosts with no vmid matched no single container on lab:pve1, lab:pve2; nothing written`);
    assert.equal(
      e.detail,
      [
        `- ${file}:9: host 10.0.20.21: ambiguous: CT 101 (k3s-worker-1) on pve1 by address 10.0.20.21 (net0), CT 102 (k3s-worker-2) on pve2 by address 10.0.20.21 (net1); set vmid=<id> and pve_host=<proxmox node> on it, or give each container its own address`,
        `- ${file}:11: host 10.0.20.99: no container on lab:pve1, lab:pve2 has the address or hostname 10.0.20.99; add --discover for the Proxmox host that holds it, or set vmid=<id> and pve_host=<proxmox node> on it`,
        `- ${file}:12: host 10.0.20.5: matches only containers that are not k3s nodes: CT 110 (pihole) on pve1: no k3s service inside (no k3s.service or k3s-agent.service in /etc/systemd/system)`,
      ].join('\n'),
    );
    return true;
  });
});

test('techno-tim INI: proxmox_lxc_ct_ids paired by position only narrow the match; a pairing that contradicts it is listed', async () => {
  const lab = await makeLab();
  const inv = (ids: number[]) =>
    write(
      'hosts.ini',
      `[master]\n10.0.20.20\n\n[node]\n10.0.20.21\n10.0.20.22\n10.0.20.23\n\n[proxmox]\n10.0.20.2\n\n[k3s_cluster:children]\nmaster\nnode\n`,
      `k3s_version: v1.31.12+k3s1\nproxmox_lxc_configure: true\nproxmox_lxc_ct_ids:\n${ids.map((i) => `  - ${i}\n`).join('')}`,
    );
  const ok = await run(inv([100, 101, 102, 103]), await found(lab));
  assert.deepEqual(
    ok.nodes.map((n) => `${n.name} ${n.vmid} ${n.host} ${n.role}`),
    ['k3s-ctrl-1 100 pve1 server', 'k3s-worker-1 101 pve1 agent', 'k3s-worker-2 102 pve2 agent', 'k3s-worker-3 103 pve2 agent'],
  );
  assert.ok(!ok.text.includes('paired in order'), 'the ids did not decide');
  const file = inv([100, 102, 101, 103]);
  await assert.rejects(run(file, await found(lab)), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(
      e.detail,
      [
        `- ${file}:5: host 10.0.20.21: proxmox_lxc_ct_ids pairs it with CT 102, but its address or name matches CT 101 (k3s-worker-1) on pve1; fix proxmox_lxc_ct_ids, or set vmid=<id> and pve_host=<proxmox node> on it`,
        `- ${file}:6: host 10.0.20.22: proxmox_lxc_ct_ids pairs it with CT 101, but its address or name matches CT 102 (k3s-worker-2) on pve2; fix proxmox_lxc_ct_ids, or set vmid=<id> and pve_host=<proxmox node> on it`,
      ].join('\n'),
    );
    return true;
  });
});

test('a host with a vmid keeps it; its Proxmox host comes from discovery when the inventory does not say', async () => {
  const lab = await makeLab();
  const file = write('hosts.ini', '[server]\nk3s-ctrl-1 vmid=100\n\n[agent]\n10.0.20.22\n');
  const r = await run(file, await found(lab));
  assert.deepEqual(
    r.nodes.map((n) => `${n.name} ${n.vmid} ${n.host} ${n.role}`),
    ['k3s-ctrl-1 100 pve1 server', 'k3s-worker-2 102 pve2 agent'],
  );
});

test('two Ansible hosts naming one container (by address and by hostname) are listed, not both written', async () => {
  const lab = await makeLab();
  const file = write('hosts.ini', '[server]\n10.0.20.20\nk3s-ctrl-1\n\n[agent]\n10.0.20.21\n');
  await assert.rejects(run(file, await found(lab)), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(
      e.detail,
      `- ${file}:3: host k3s-ctrl-1: matches CT 100 (k3s-ctrl-1) on pve1 by hostname k3s-ctrl-1, which host 10.0.20.20 (${file}:2) matches too; list each container once`,
    );
    return true;
  });
});
