import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab } from '../lab/helpers.js';
import { discover, type DiscoverTarget } from '../../src/discover/discover.js';
import { mergeInventory } from '../../src/discover/merge.js';
import { migrateContainer } from '../../src/lab/index.js';
import { gatherFacts } from '../../src/upgrade/facts/gather.js';
import { parseInventory } from '../../src/inventory/index.js';
import { parseClusterResources } from '../../src/discover/resources.js';
import { fixture } from '../helpers/fixtures.js';
import type { Lab } from '../../src/lab/index.js';
import type { Shell } from '../../src/shell/shell.js';

const FILE = '/srv/pve-k3s.yaml';
const labOpt = (lab: Lab) => ({
  providers: [{ name: 'lab', settings: { dir: lab.dir }, k3s: { channelUrl: 'lab', installScriptUrl: lab.state.installScriptUrl } }],
});
const targets = (lab: Lab, hosts = ['pve1', 'pve2']): DiscoverTarget[] =>
  hosts.map((h) => ({ shell: lab.shell(h), access: { kind: 'provider', provider: 'lab' }, node: h }));

/** Untags CT 103 (still a k3s agent inside). */
function untag(lab: Lab, vmid: number): void {
  lab.update((s) => {
    for (const h of s.hosts) for (const c of h.containers) if (c.vmid === vmid) c.config = c.config.filter(([k]) => k !== 'tags');
  });
}

test('cluster resources fixture: only LXC, tags split, lock kept', () => {
  const cts = parseClusterResources(JSON.parse(fixture('cluster-resources.json')));
  assert.deepEqual(
    cts.map((c) => `${c.vmid} ${c.node} ${c.status} ${(c.tags ?? []).join(',')} ${c.lock ?? '-'}`),
    [
      '100 pve1 running k3s,server -',
      '101 pve1 running k3s,worker -',
      '102 pve2 running k3s,worker -',
      '103 pve2 stopped k3s,worker backup',
      '110 pve1 running  -',
    ],
  );
});

test('two lab hosts: tagged nodes kept, untagged ones skipped, roles from the services, a migrated one on its new host', async () => {
  const lab = await makeLab();
  untag(lab, 103);
  assert.equal(migrateContainer(lab, 102, { target: 'pve1', restart: true }), undefined);
  const d = await discover(targets(lab));
  assert.equal(d.source, 'cluster-resources');
  assert.deepEqual(
    d.nodes.map((n) => `${n.name} ${n.vmid} ${n.host} ${n.role} ${n.roleFrom}`),
    ['k3s-ctrl-1 100 pve1 server services', 'k3s-worker-1 101 pve1 agent services', 'k3s-worker-2 102 pve1 agent services'],
  );
  assert.deepEqual(
    d.skipped.map((s) => `${s.vmid} ${s.reason}`),
    ['103 not tagged k3s', '110 not tagged k3s'],
  );
  assert.equal(d.roundTrips, 4);
  const all = await discover(targets(lab), { all: true });
  assert.deepEqual(
    all.nodes.map((n) => n.vmid),
    [100, 101, 102, 103],
  );
  assert.deepEqual(
    all.skipped.map((s) => `${s.vmid} ${s.reason}`),
    ['110 no k3s service inside (no k3s.service or k3s-agent.service in /etc/systemd/system)'],
  );
});

test('a node not given with --host gets its role from tags and a warning; a stopped one too', async () => {
  const lab = await makeLab();
  lab.update((s) => {
    s.hosts[1]!.containers.find((c) => c.vmid === 103)!.status = 'stopped';
  });
  const d = await discover(targets(lab, ['pve1']));
  assert.deepEqual(
    d.nodes.map((n) => `${n.name} ${n.host} ${n.role} ${n.roleFrom}`),
    ['k3s-ctrl-1 pve1 server services', 'k3s-worker-1 pve1 agent services', 'k3s-worker-2 pve2 agent tags', 'k3s-worker-3 pve2 agent tags'],
  );
  assert.deepEqual(d.warnings, [
    'Proxmox node pve2 was not probed (add --host for it): roles of its containers come from their tags, and the inventory gets `ssh: root@pve2` for it',
  ]);
  const merged = mergeInventory(d, undefined, { file: FILE, cluster: 'homelab', ...labOpt(lab) });
  assert.match(merged.text, /^ {2}pve2: \{ ssh: root@pve2 \}$/m);
});

test('without pvesh, pct list on each host and tags from pct config', async () => {
  const lab = await makeLab();
  const noPvesh = (s: Shell): Shell => ({
    host: s.host,
    close: () => s.close(),
    run: (argv, o) => s.run(argv, o && o.stdin ? { ...o, stdin: o.stdin.replace(/^pvesh /m, 'pvesh-missing ') } : o),
  });
  const d = await discover(
    ['pve1', 'pve2'].map((h) => ({ shell: noPvesh(lab.shell(h)), access: { kind: 'provider' as const, provider: 'lab' }, node: h })),
  );
  assert.equal(d.source, 'pct-list');
  assert.deepEqual(
    d.nodes.map((n) => `${n.name} ${n.host}`),
    ['k3s-ctrl-1 pve1', 'k3s-worker-1 pve1', 'k3s-worker-2 pve2', 'k3s-worker-3 pve2'],
  );
  assert.match(d.warnings[0] ?? '', /^no cluster-wide listing \(pvesh failed \(exit 127\)/);
});

test("re-running discover keeps the user's comments and settings, moves a migrated node, adds a new one", async () => {
  const lab = await makeLab();
  const first = mergeInventory(await discover(targets(lab)), undefined, { file: FILE, cluster: 'homelab', ...labOpt(lab) });
  const user = first.text
    .replace('cluster: homelab', 'cluster: homelab # my cluster')
    .replace(
      '  k3s-worker-2: { vmid: 102, host: pve2, role: agent }',
      '  # the big one\n  k3s-worker-2: { vmid: 102, host: pve2, role: worker } # 64 GB',
    )
    .concat('drain:\n  timeout: 10m # vault is slow\n');
  parseInventory(user, FILE);
  migrateContainer(lab, 102, { target: 'pve1', restart: true });
  const again = mergeInventory(await discover(targets(lab)), user, { file: FILE });
  assert.deepEqual(again.changes, ['moved k3s-worker-2 (CT 102): pve2 -> pve1']);
  assert.equal(
    again.text,
    user.replace('k3s-worker-2: { vmid: 102, host: pve2, role: worker }', 'k3s-worker-2: { vmid: 102, host: pve1, role: worker }'),
  );
  assert.equal(mergeInventory(await discover(targets(lab)), again.text, { file: FILE }).text, again.text);

  const inv = parseInventory(again.text + '', FILE);
  assert.equal(inv.drain.timeoutSeconds, 600);
  const gone = again.text.replace('nodes:\n', 'nodes:\n  old-node: { vmid: 150, host: pve1, role: agent }\n');
  assert.deepEqual(mergeInventory(await discover(targets(lab)), gone, { file: FILE }).changes, [
    'old-node (CT 150 on pve1) was not found on Proxmox; left in the file (remove it if the container is gone)',
  ]);
});

test('at run time a migrated container is found on its new host, with a relocation and two extra round trips', async () => {
  const lab = await makeLab();
  const text = mergeInventory(await discover(targets(lab)), undefined, { file: FILE, cluster: 'lab', ...labOpt(lab) }).text;
  const inv = parseInventory(text, FILE);
  const shells = new Map(['pve1', 'pve2'].map((h) => [h, lab.shell(h)] as const));
  const before = await gatherFacts(inv, shells);
  assert.equal(before.roundTrips, 2);
  assert.equal(before.relocated, undefined);
  assert.equal(migrateContainer(lab, 102, { target: 'pve1' }), 'CT is running - use online migration or --restart');
  assert.equal(migrateContainer(lab, 102, { target: 'pve1', restart: true }), undefined);
  const after = await gatherFacts(inv, shells);
  assert.deepEqual(after.relocated, [{ node: 'k3s-worker-2', vmid: 102, from: 'pve2', to: 'pve1', declared: true }]);
  assert.equal(after.roundTrips, 4);
  const w2 = after.nodes.find((n) => n.name === 'k3s-worker-2')!;
  assert.equal(w2.host, 'pve1');
  assert.equal(w2.container, 'running');
  assert.equal(w2.installed?.raw, 'v1.33.3+k3s1');
});
