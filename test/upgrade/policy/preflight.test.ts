/** `pve-k3s preflight` (and the preflight of plan/upgrade) on labs that have each problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';
import { labPolicyProblem, type LabPolicyProblem } from '../../../src/lab/index.js';

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
  id: string;
  status: string;
  scope: string;
  message: string;
  fix?: string;
}
async function preflight(
  f: LabFixture,
  args: string[] = [],
): Promise<{ code: number | null; doc: { ok: boolean; checks: string[]; results: R[] }; stderr: string }> {
  const r = await f.cli(['preflight', '-o', 'json', ...args]);
  return { code: r.code, doc: JSON.parse(r.stdout || '{}'), stderr: r.stderr };
}
const problems = (results: R[]) => results.filter((r) => r.status !== 'pass').map((r) => [r.id, r.status, r.scope]);
function breakLab(f: LabFixture, list: Array<[string, LabPolicyProblem]>) {
  f.lab.update((s) => {
    for (const [node, what] of list) labPolicyProblem(s, node, what);
  });
}

test('GIVEN a healthy lab WHEN preflight runs THEN every check passes, in order, and it exits 0', async () => {
  await withLab({}, async (f) => {
    const { code, doc } = await preflight(f);
    assert.equal(code, 0);
    assert.equal(doc.ok, true);
    assert.deepEqual(problems(doc.results), []);
    assert.deepEqual(doc.checks, [
      'plan',
      'container-running',
      'node-ready',
      'container-lock',
      'etcd-quorum',
      'disk-space',
      'snapshot-storage',
      'proxmox-ha',
      'upgrade-controller',
      'kube-proxy-conntrack',
      'runc-apparmor',
      'cgroup-v1-pve9',
      'zfs-overlayfs',
    ]);
  });
});

test('GIVEN a lab with a locked container, an HA resource under a rebalancing scheduler and a full disk WHEN preflight runs THEN each fails with its fix, and it exits 1', async () => {
  await withLab({}, async (f) => {
    breakLab(f, [
      ['k3s-worker-2', 'locked'],
      ['k3s-worker-1', 'ha-rebalance'],
      ['k3s-worker-3', 'low-disk-for-download'],
    ]);
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    assert.equal(doc.ok, false);
    assert.deepEqual(problems(doc.results), [
      ['container-lock', 'fail', 'k3s-worker-2'],
      ['disk-space', 'fail', 'k3s-worker-3'],
      ['proxmox-ha', 'fail', 'k3s-worker-1'],
    ]);
    const by = (id: string) => doc.results.find((r) => r.id === id && r.status === 'fail')!;
    assert.equal(by('container-lock').message, 'CT 102 on pve2 is locked (backup): a Proxmox task (backup, snapshot, migration) holds it');
    assert.equal(by('container-lock').fix, 'wait for that task to end (Datacenter > Tasks); if none runs, pct unlock 102 on pve2');
    assert.equal(by('disk-space').message, '0 MiB free on /; the download needs 136 MiB (twice the 68 MiB k3s binary)');
    assert.equal(
      by('proxmox-ha').fix,
      'pause HA for it during the upgrade: ha-manager set ct:101 --state ignored (on pve1); afterwards ha-manager set ct:101 --state started',
    );
    // The table says the same, each problem with its fix.
    const t = await f.cli(['preflight']);
    assert.equal(t.code, 1);
    assert.match(t.stdout, /^FAIL {2}container-lock {8}k3s-worker-2: CT 102 on pve2 is locked \(backup\)/m);
    assert.match(t.stdout, /^ +fix: {2}pause HA for it during the upgrade: ha-manager set ct:101 --state ignored \(on pve1\)/m);
    assert.match(t.stdout, /^preflight for v1\.33\.5\+k3s1: 13 checks: 3 failed$/m);
  });
});

test('GIVEN failed checks WHEN --ignore-preflight names them THEN they are ignored and it exits 0; an unknown id is a usage error', async () => {
  await withLab({}, async (f) => {
    breakLab(f, [
      ['k3s-worker-2', 'locked'],
      ['k3s-worker-3', 'low-disk-for-download'],
    ]);
    const { code, doc } = await preflight(f, ['--ignore-preflight', 'container-lock', '--ignore-preflight', 'disk-space']);
    assert.equal(code, 0);
    assert.deepEqual(problems(doc.results), [
      ['container-lock', 'ignored', 'k3s-worker-2'],
      ['disk-space', 'ignored', 'k3s-worker-3'],
    ]);
    assert.equal((await preflight(f, ['--ignore-preflight', 'all'])).code, 0);
    const bad = await f.cli(['preflight', '--ignore-preflight', 'container-lock,nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: --ignore-preflight: unknown check "nope"$/m);
    assert.match(bad.stderr, /checks: plan, container-running, node-ready, container-lock, etcd-quorum/);
  });
});

test('GIVEN a failed preflight WHEN upgrade runs THEN it refuses before changing anything, and goes with --ignore-preflight', async () => {
  await withLab({}, async (f) => {
    breakLab(f, [['k3s-worker-2', 'locked']]);
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^ {2}FAIL container-lock k3s-worker-2: CT 102 on pve2 is locked \(backup\)/m);
    assert.match(r.stderr, /^error: preflight failed: container-lock: k3s-worker-2: CT 102 on pve2 is locked \(backup\)/m);
    assert.match(r.stderr, /go on anyway with --ignore-preflight container-lock$/m);
    assert.ok(
      f.lab.summary().every((n) => n.version === undefined || n.version === 'v1.33.3+k3s1'),
      'nothing upgraded',
    );
    const dry = await f.cli(['upgrade', '--dry-run']);
    assert.equal(dry.code, 1, 'a dry run says the real one would refuse');
    // The lab's lock does not stop pct exec: with the check ignored the upgrade goes through.
    f.lab.update((s) => {
      for (const h of s.hosts) for (const c of h.containers) if (c.vmid === 102) c.lock = '';
    });
    breakLab(f, [['k3s-worker-3', 'ha-resource']]);
    const warned = await f.cli(['upgrade', '--yes']);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stdout, /^ {2}WARN proxmox-ha k3s-worker-3: ct:103 is an HA resource \(started\): HA would move or restart it/m);
  });
});

test('GIVEN two servers WHEN preflight runs THEN etcd-quorum fails: two members lose quorum when one restarts', async () => {
  await withLab({ servers: 2, workers: 1 }, async (f) => {
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    const q = doc.results.find((r) => r.id === 'etcd-quorum')!;
    assert.equal(q.status, 'fail');
    assert.equal(q.message, 'with one server down for its upgrade, 1 of 2 etcd members would be up; quorum needs 2');
    assert.match(q.fix!, /^two etcd members lose quorum whenever one restarts: add a third server/);
  });
});

test('GIVEN three servers, one NotReady WHEN preflight runs THEN etcd-quorum fails naming it; all up, it passes', async () => {
  await withLab({ servers: 3, workers: 0 }, async (f) => {
    assert.equal((await preflight(f)).doc.results.find((r) => r.id === 'etcd-quorum')!.status, 'pass');
    f.lab.update((s) => {
      s.clusters['lab']!.nodes['k3s-server-2']!.neverReady = true;
    });
    const q = (await preflight(f)).doc.results.find((r) => r.id === 'etcd-quorum')!;
    assert.equal(
      q.message,
      'with one server down for its upgrade, 1 of 3 etcd members would be up; quorum needs 2 (already down: k3s-server-2)',
    );
  });
});

test('GIVEN --snapshot and a container on directory storage WHEN preflight runs THEN snapshot-storage fails for it', async () => {
  await withLab({}, async (f) => {
    breakLab(f, [['k3s-worker-1', 'dir-storage']]);
    assert.equal((await preflight(f)).code, 0, 'no snapshots asked for: no problem');
    const { code, doc } = await preflight(f, ['--snapshot']);
    assert.equal(code, 1);
    assert.deepEqual(problems(doc.results), [['snapshot-storage', 'fail', 'k3s-worker-1']]);
    assert.equal(doc.results.find((r) => r.status === 'fail')!.message, 'rootfs on local (dir): no snapshots there');
  });
});

test('GIVEN system-upgrade-controller Plans or Rancher WHEN preflight runs THEN upgrade-controller fails', async () => {
  await withLab({}, async (f) => {
    breakLab(f, [['k3s-ctrl-1', 'suc-plan']]);
    let { doc } = await preflight(f);
    assert.deepEqual(problems(doc.results), [['upgrade-controller', 'fail', 'cluster']]);
    assert.equal(
      doc.results.find((r) => r.status === 'fail')!.message,
      'system-upgrade-controller Plans would upgrade nodes too: system-upgrade/k3s-server',
    );
    f.lab.update((s) => {
      (s as unknown as { policy: { sucPlans?: string[] } }).policy.sucPlans = [];
    });
    breakLab(f, [['k3s-ctrl-1', 'rancher']]);
    ({ doc } = await preflight(f));
    assert.match(doc.results.find((r) => r.status === 'fail')!.message, /^Rancher manages this cluster/);
  });
});

test('GIVEN a stopped container WHEN preflight runs THEN the plan and container-running fail; held back with --exclude they only warn', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      for (const h of s.hosts)
        for (const c of h.containers)
          if (c.vmid === 103) {
            c.status = 'stopped';
            for (const svc of Object.values(c.k3s.services)) svc.running = false;
          }
    });
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    assert.deepEqual(problems(doc.results).slice(0, 3), [
      ['plan', 'fail', 'k3s-worker-3'],
      ['container-running', 'fail', 'k3s-worker-3'],
      ['node-ready', 'fail', 'k3s-worker-3'],
    ]);
    const held = await preflight(f, ['--exclude', 'k3s-worker-3']);
    assert.equal(held.code, 0);
    assert.deepEqual(problems(held.doc.results), [
      ['container-running', 'warn', 'k3s-worker-3'],
      ['node-ready', 'warn', 'k3s-worker-3'],
    ]);
  });
});
