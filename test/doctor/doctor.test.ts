/** doctor on the lab: every check passes on a healthy lab and fails on its breakage; --fix; -o json. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess, labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { labBreak, type LabBreakage } from '../../src/lab/index.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}
interface R {
  check: string;
  scope: string;
  status: string;
  message: string;
  cause?: string;
  fix?: string;
  fixable: boolean;
}
async function doctor(f: LabFixture, args: string[] = []): Promise<{ code: number | null; results: R[] }> {
  const r = await f.cli(['doctor', '-o', 'json', ...args]);
  return { code: r.code, results: JSON.parse(r.stdout).results as R[] };
}

test('GIVEN a healthy lab WHEN doctor runs THEN every check passes and it exits 0', async () => {
  await withLab({}, async (f) => {
    const { code, results } = await doctor(f);
    assert.deepEqual(
      results.filter((r) => r.status !== 'ok'),
      [],
    );
    assert.equal(code, 0);
    assert.deepEqual(
      [...new Set(results.map((r) => r.check))],
      [
        'container',
        'lxc-config',
        'cgroup-v1',
        'snapshot-section',
        'privileged',
        'nesting',
        'swap',
        'kmsg',
        'rshared',
        'host-modules',
        'zfs-overlay',
        'k3s-path',
        'worker-role',
        'version-skew',
        'cordoned',
        'upgrade-journal',
        'disk',
        'clock',
        'kube-proxy-conntrack',
        'runc-apparmor',
        'cgroup-v1-pve9',
        'zfs-overlayfs',
      ],
    );
  });
});

const CASES: Array<[LabBreakage, string, string, string, RegExp, boolean]> = [
  [
    'lxc-missing',
    'k3s-worker-1',
    'lxc-config',
    'fail',
    /^missing in \/etc\/pve\/lxc\/101\.conf: lxc\.apparmor\.profile: unconfined, lxc\.cap\.drop:$/,
    true,
  ],
  ['cgroup-v1', 'k3s-worker-1', 'cgroup-v1', 'fail', /^cgroup v1 keys in \/etc\/pve\/lxc\/101\.conf: lxc\.cgroup\.devices\.allow$/, true],
  ['below-snapshot', 'k3s-worker-1', 'snapshot-section', 'fail', /only below a \[snapshot\] section of \/etc\/pve\/lxc\/101\.conf$/, true],
  ['unprivileged', 'k3s-worker-1', 'privileged', 'fail', /^the container is unprivileged/, false],
  ['no-nesting', 'k3s-worker-1', 'nesting', 'fail', /^nesting is off \(features: none\)$/, true],
  ['swap', 'k3s-worker-1', 'swap', 'fail', /^swap is 512$/, true],
  ['no-kmsg', 'k3s-worker-1', 'kmsg', 'fail', /^\/dev\/kmsg does not exist in the container$/, true],
  ['not-rshared', 'k3s-worker-1', 'rshared', 'fail', /^\/ is not shared \(propagation: private\)$/, true],
  ['modules', 'k3s-worker-1', 'host-modules', 'fail', /^kernel modules not loaded: overlay, br_netfilter$/, true],
  [
    'zfs-overlay',
    'k3s-worker-1',
    'zfs-overlay',
    'warn',
    /^root on ZFS \(local-zfs\) with containerd's default overlayfs snapshotter$/,
    false,
  ],
  ['no-kubectl', 'k3s-ctrl-1', 'k3s-path', 'fail', /^not found: \/usr\/local\/bin\/kubectl$/, false],
  ['worker-turned-server', 'k3s-worker-2', 'worker-role', 'fail', /^the worker has a k3s server service/, false],
  ['low-disk', 'k3s-worker-1', 'disk', 'fail', /^root file system 96% used$/, false],
  ['clock-skew', 'k3s-worker-3', 'clock', 'warn', /clock is at least \d+ s ahead of/, false],
];

for (const [what, node, check, status, message, fixable] of CASES) {
  test(`GIVEN ${what} on ${node} WHEN doctor runs THEN ${check} ${status}s with cause and fix`, async () => {
    await withLab({}, async (f) => {
      f.lab.update((s) => labBreak(s, { node, what }));
      const { code, results } = await doctor(f);
      const bad = results.filter((r) => r.status !== 'ok');
      const hit = bad.find((r) => r.check === check);
      assert.ok(hit, JSON.stringify(bad));
      assert.equal(hit.status, status);
      assert.match(hit.message, message);
      assert.ok(hit.cause && hit.fix);
      assert.equal(hit.fixable, fixable);
      assert.equal(code, 1);
    });
  });
}

test('GIVEN nodes of different versions, a node left cordoned by pve-k3s and an interrupted journal WHEN doctor runs THEN skew, cordon and journal warn', async () => {
  await withLab({ nodeVersions: { 'k3s-worker-1': 'v1.33.5+k3s1' } }, async (f) => {
    const k = (args: string[]) => f.lab.shell('pve1').run(['pct', 'exec', '100', '--', '/usr/local/bin/kubectl', ...args]);
    assert.equal((await k(['cordon', 'k3s-worker-2'])).code, 0);
    assert.equal((await k(['annotate', 'node', 'k3s-worker-2', 'pve-k3s.io/cordoned-for-upgrade=v1.33.5+k3s1'])).code, 0);
    mkdirSync(join(f.dir, 'state', 'pve-k3s', 'journal'), { recursive: true });
    writeFileSync(
      join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl'),
      [
        { v: 1, t: '2026-01-01T00:00:00Z', type: 'run-start', run: 'r1', target: 'v1.33.5+k3s1' },
        { v: 1, t: '2026-01-01T00:01:00Z', type: 'run-end', run: 'r1', status: 'failed', leftCordoned: ['k3s-worker-2'], midUpgrade: [] },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n') + '\n',
    );
    const { results } = await doctor(f);
    const by = (c: string) => results.filter((r) => r.check === c && r.status !== 'ok');
    assert.match(by('version-skew')[0]?.message ?? '', /^nodes run different k3s versions: /);
    assert.equal(by('cordoned')[0]?.message, 'cordoned by pve-k3s (pve-k3s.io/cordoned-for-upgrade=v1.33.5+k3s1)');
    assert.equal(by('cordoned')[0]?.fixable, true);
    assert.equal(by('upgrade-journal')[0]?.message, 'the last upgrade (r1 to v1.33.5+k3s1) failed');
    const fixed = await f.cli(['doctor', '--fix']);
    assert.match(fixed.stdout, /fixed: k3s-worker-2: kubectl uncordon and remove pve-k3s\.io\/cordoned-for-upgrade: uncordoned/);
    assert.equal(f.lab.state.clusters.lab?.nodes['k3s-worker-2']?.unschedulable, false);
  });
});

test('GIVEN several breakages WHEN doctor --fix runs THEN it lists the safe fixes, applies them, and a second doctor finds those problems gone', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      for (const b of ['below-snapshot', 'cgroup-v1', 'swap', 'no-nesting'] as const) labBreak(s, { node: 'k3s-worker-1', what: b });
      labBreak(s, { node: 'k3s-worker-3', what: 'modules' });
      labBreak(s, { node: 'k3s-ctrl-1', what: 'not-rshared' });
    });
    const r = await f.cli(['doctor', '--fix']);
    assert.match(r.stdout, /\nApplying the safe fixes:\n  - /);
    assert.match(r.stdout, /fixed: host pve2: modprobe -a overlay br_netfilter and list them in \/etc\/modules-load\.d\/k3s\.conf: loaded/);
    assert.doesNotMatch(r.stdout, /FAILED/);
    const { code, results } = await doctor(f);
    assert.deepEqual(
      results.filter((x) => x.status !== 'ok'),
      [],
    );
    assert.equal(code, 0);
    const conf = (await f.lab.shell('pve1').run(['cat', '/etc/pve/lxc/101.conf'])).stdout;
    assert.match(conf, /^lxc\.apparmor\.profile: unconfined\n(.|\n)*\n\n\[before-k3s\]\n/m);
  });
});

test('GIVEN a node name WHEN doctor NODE runs THEN only that node and its host are checked; an unknown node is a usage error', async () => {
  await withLab({}, async (f) => {
    const { results } = await doctor(f, ['k3s-worker-3']);
    assert.deepEqual([...new Set(results.map((r) => r.scope))].sort(), ['host pve2', 'k3s-worker-3']);
    const bad = await f.cli(['doctor', 'nope']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: no node "nope" in the inventory\n  nodes: k3s-ctrl-1, k3s-worker-1, k3s-worker-2, k3s-worker-3\n');
  });
});
