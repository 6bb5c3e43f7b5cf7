import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { HostSpec, Inventory, NodeSpec } from '../../src/inventory/index.js';
import { renderInventory } from '../../src/inventory/index.js';
import { FILE, FULL, MINIMAL, parse } from './helpers.js';

test('GIVEN the minimal inventory WHEN rendered THEN only cluster, hosts and nodes are written, as flow maps', () => {
  assert.equal(
    renderInventory(parse(MINIMAL)),
    [
      '# pve-k3s inventory (format: docs/inventory.md)',
      '',
      'cluster: homelab',
      'hosts:',
      '  pve1: { ssh: root@pve1 }',
      'nodes:',
      '  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }',
      '',
    ].join('\n'),
  );
});

test('GIVEN the full inventory WHEN rendered THEN non-defaults are written with paths absolute and durations in units', () => {
  const text = renderInventory(parse(FULL));
  assert.ok(text.includes('  pve2: { ssh: pve2, sshConfig: /home/ops/.ssh/config-lab }\n'), text);
  assert.ok(text.includes('  k3s-worker-1: { vmid: 101, host: pve2, role: agent }\n'), text);
  assert.ok(text.includes('  timeout: 1m30s\n  gracePeriod: 45s\n'), text);
  assert.ok(text.includes('  readyTimeout: 1h\n'), text);
  assert.ok(!text.includes('controller:'), 'the controller is the first server: not written');
  assert.deepEqual(parse(text), parse(FULL));
});

const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,4})?$/);
const hostName = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?$/);
const absPath = fc
  .stringMatching(/^(\/[A-Za-z0-9._ -]{1,8}){1,3}$/)
  .filter((p) => !p.split('/').some((s) => s === '.' || s === '..' || s.endsWith(' ') || s.startsWith(' ')));
const seconds = fc.integer({ min: 1, max: 200_000 });
const access: fc.Arbitrary<HostSpec['access']> = fc.oneof(
  fc.record({ kind: fc.constant('ssh' as const), destination: fc.stringMatching(/^([a-z]{1,5}@)?[a-z0-9][a-z0-9.:-]{0,10}$/) }),
  fc.record({
    kind: fc.constant('ssh' as const),
    destination: fc.constantFrom('pve1', 'root@10.0.0.1', 'ssh://root@pve:2222'),
    configFile: absPath,
  }),
  fc.constant({ kind: 'local' as const }),
  fc.constant({ kind: 'provider' as const, provider: 'lab' }),
);

const inventory: fc.Arbitrary<Inventory> = fc
  .record({
    cluster: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
    hosts: fc.uniqueArray(fc.record({ name: hostName, access }), { minLength: 1, maxLength: 4, selector: (h) => h.name }),
    nodeNames: fc.uniqueArray(name, { minLength: 1, maxLength: 6 }),
    vmids: fc.uniqueArray(fc.integer({ min: 100, max: 999_999_999 }), { minLength: 6, maxLength: 6 }),
    roles: fc.array(fc.constantFrom<NodeSpec['role']>('server', 'agent'), { minLength: 6, maxLength: 6 }),
    hostPicks: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
    controllerPick: fc.nat(),
    k3s: fc.record({
      channel: fc.constantFrom('stable', 'latest', 'testing', 'v1.31', 'v1.30'),
      version: fc.option(fc.constantFrom('v1.33.5+k3s1', 'v1.32.0-rc1+k3s2'), { nil: undefined }),
      channelUrl: fc.constantFrom('https://update.k3s.io/v1-release/channels', 'http://10.0.0.5/channels', { provider: 'lab' }),
      installScriptUrl: fc.constantFrom('https://get.k3s.io', 'https://mirror.example/install.sh?x=1#y'),
    }),
    drain: fc.record({
      ignoreDaemonsets: fc.boolean(),
      deleteEmptydirData: fc.boolean(),
      disableEviction: fc.boolean(),
      force: fc.boolean(),
      timeoutSeconds: seconds,
      gracePeriodSeconds: fc.option(seconds, { nil: undefined }),
      skipWaitForDeleteTimeoutSeconds: fc.option(seconds, { nil: undefined }),
      onTimeout: fc.constantFrom('fail', 'disable-eviction'),
    }),
    upgrade: fc.record({
      order: fc.constantFrom('auto', 'workers-first', 'servers-first'),
      allowSkew: fc.boolean(),
      readyTimeoutSeconds: seconds,
      drainServers: fc.constantFrom('auto', 'always', 'never'),
      snapshot: fc.boolean(),
      snapshotRetention: fc.integer({ min: 1, max: 100 }),
      parallel: fc.integer({ min: 1, max: 100 }),
    }),
    labDir: absPath,
  })
  .map((r): Inventory => {
    const nodes: NodeSpec[] = r.nodeNames.map((n, i) => ({
      name: n,
      vmid: r.vmids[i] ?? 100 + i,
      host: r.hosts[(r.hostPicks[i] ?? 0) % r.hosts.length]?.name ?? '',
      role: i === 0 ? 'server' : (r.roles[i] ?? 'agent'),
    }));
    const servers = nodes.filter((n) => n.role === 'server');
    const needsLab = typeof r.k3s.channelUrl !== 'string' || r.hosts.some((h) => h.access.kind === 'provider');
    // structuredClone: fast-check records have a null prototype, which deepStrictEqual compares.
    return structuredClone({
      file: FILE,
      cluster: r.cluster,
      hosts: r.hosts,
      nodes,
      controller: servers[r.controllerPick % servers.length]?.name ?? '',
      k3s: r.k3s,
      drain: r.drain,
      upgrade: r.upgrade,
      providers: (needsLab ? { lab: { dir: r.labDir } } : {}) as Inventory['providers'],
    });
  });

test('GIVEN any valid inventory WHEN rendered and parsed again THEN the result deep-equals the original', () => {
  fc.assert(
    fc.property(inventory, (inv) => {
      assert.deepStrictEqual(parse(renderInventory(inv)), inv);
    }),
    { numRuns: 300 },
  );
});
