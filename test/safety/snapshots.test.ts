/** Snapshots, rollback, the datastore backup, retention and storage without snapshots. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { withLab, assertJournalConsistent, journal, kubelets, cordoned, container, lastRun } from './helpers.js';
import { loadInventory } from '../../src/inventory/index.js';
import { connectCluster } from '../../src/operation/connect.js';
import { planCluster } from '../../src/upgrade/plan/plan-cluster.js';
import { executeUpgrade } from '../../src/upgrade/run/upgrade-run.js';
import { RolledBackError } from '../../src/upgrade/run/steps.js';
import { parseListSnapshot } from '../../src/upgrade/run/snapshots.js';
import { fixture } from '../helpers/fixtures.js';
import { cliInProcess } from '../helpers/lab-cli.js';

cliInProcess();

const snaps = (f: Parameters<Parameters<typeof withLab>[1]>[0], name: string) => container(f.lab, name).snapshots.map((s) => s.name);

test('GIVEN --snapshot WHEN upgrade runs THEN each container gets pre-k3s-<version> before its install, the single server a datastore backup (0600), and no probe snapshot is left', async () => {
  await withLab({ workers: 2 }, async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--snapshot']);
    assert.equal(r.code, 0, r.stderr);
    for (const n of ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2']) assert.deepEqual(snaps(f, n), ['pre-k3s-v1-33-5-k3s1'], n);
    // The snapshot holds the old version.
    assert.equal(container(f.lab, 'k3s-worker-1').snapshots[0]?.k3s.binaryVersion, 'v1.33.3+k3s1');
    const fs = container(f.lab, 'k3s-ctrl-1').fs;
    const backup = fs['/var/lib/pve-k3s/backup/pre-k3s-v1-33-5-k3s1/token'];
    assert.equal(backup?.content, fs['/var/lib/rancher/k3s/server/token']?.content);
    assert.equal(backup?.mode, 0o600);
    assert.match(
      r.stderr,
      /k3s-ctrl-1: install done \(\d+\.\ds\): datastore backup \/var\/lib\/pve-k3s\/backup\/pre-k3s-v1-33-5-k3s1 \(token(, state\.db)?\); snapshot pre-k3s-v1-33-5-k3s1; role server kept$|k3s-ctrl-1: install done \(\d+\.\ds\): snapshot pre-k3s-v1-33-5-k3s1; datastore backup \/var\/lib\/pve-k3s\/backup\/pre-k3s-v1-33-5-k3s1 \(token(, state\.db)?\); role server kept$/m,
    );
    assert.ok(!r.stderr.includes(fs['/var/lib/rancher/k3s/server/token']!.content.trim()), 'the token is never printed');
    assert.ok(journal(f).some((x) => x.type === 'note' && x.message === 'snapshot pre-k3s-v1-33-5-k3s1 taken'));
  });
});

test('GIVEN snapshotRetention 1 WHEN two upgrades run with snapshots THEN only the newest pre-k3s snapshot is kept', async () => {
  await withLab({ workers: 1 }, async (f) => {
    writeFileSync(f.inventory, readFileSync(f.inventory, 'utf8') + 'upgrade:\n  snapshot: true\n  snapshotRetention: 1\n');
    assert.equal((await f.cli(['upgrade', '--yes', '--version', 'v1.33.4+k3s1'])).code, 0);
    assert.deepEqual(snaps(f, 'k3s-worker-1'), ['pre-k3s-v1-33-4-k3s1']);
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snaps(f, 'k3s-worker-1'), ['pre-k3s-v1-33-5-k3s1']);
    assert.match(r.stderr, /k3s-worker-1: deleted old snapshot\(s\) pre-k3s-v1-33-4-k3s1 \(upgrade\.snapshotRetention 1\)$/m);
  });
});

test('GIVEN storage without snapshot support WHEN upgrade --snapshot runs THEN it is refused up front, naming the container, and nothing changes', async () => {
  await withLab({ workers: 2 }, async (f) => {
    f.lab.update((s) => {
      for (const h of s.hosts) for (const c of h.containers) if (c.vmid === 102) c.switches.snapshotsUnsupported = true;
    });
    const r = await f.cli(['upgrade', '--yes', '--snapshot']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.split('\n').slice(0, 2).join('\n'),
      [
        'error: snapshots were asked for (upgrade.snapshot or --snapshot) but 1 container(s) cannot be snapshotted: k3s-worker-2 (CT 102 on pve2): its storage does not support snapshots',
        '  nothing was changed; run without --snapshot (set upgrade.snapshot: false), or move the containers to storage with snapshots (ZFS, LVM-thin, Ceph)',
      ].join('\n'),
    );
    assert.deepEqual(kubelets(f.lab), new Set(['v1.33.3+k3s1']));
    assert.deepEqual(snaps(f, 'k3s-worker-1'), []);
    assert.deepEqual(journal(f), []);
    assert.doesNotMatch((await f.cli(['status'])).stdout, /^lock:/m);
  });
});

test('GIVEN embedded etcd WHEN upgrade --snapshot runs THEN servers are never snapshotted (one member must not be rolled back), workers are', async () => {
  await withLab({ servers: 3, workers: 1 }, async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--snapshot']);
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['k3s-server-1', 'k3s-server-2', 'k3s-server-3']) assert.deepEqual(snaps(f, s), [], s);
    assert.deepEqual(snaps(f, 'k3s-worker-1'), ['pre-k3s-v1-33-5-k3s1']);
  });
});

test('GIVEN a worker that fails its health gate after the install WHEN a snapshot was taken THEN it is rolled back, started, Ready at the old version, uncordoned, and the run stops saying so', async () => {
  await withLab({ workers: 2 }, async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.nodes['k3s-worker-1']!.neverReady = true;
    });
    const inventory = await loadInventory(f.inventory);
    const conn = await connectCluster({ ...inventory, upgrade: { ...inventory.upgrade, readyTimeoutSeconds: 1, snapshot: true } });
    try {
      const { plan } = await planCluster(conn, {});
      const logs: string[] = [];
      const result = await executeUpgrade(conn, plan, {
        env: f.env,
        order: 'auto',
        allowSkew: false,
        snapshot: { enabled: true, retention: 2 },
        poll: { minMs: 20, maxMs: 100 },
        emit: (e) => {
          if (e.kind !== 'log') return;
          logs.push(e.message);
          // The new version never gets Ready; the rolled-back one does.
          if (e.message.startsWith('rolling k3s-worker-1 back'))
            f.lab.update((s) => {
              s.clusters['lab']!.nodes['k3s-worker-1']!.neverReady = false;
            });
        },
      });
      assert.equal(result.ok, false);
      assert.ok(result.failed?.error instanceof RolledBackError);
      assert.match(
        result.failed!.error.message,
        /^node k3s-worker-1 did not pass its health gate at v1\.33\.5\+k3s1 within 1s \(last seen: NotReady, kubelet v1\.33\.5\+k3s1\); it was rolled back to snapshot pre-k3s-v1-33-5-k3s1 and runs v1\.33\.3\+k3s1 again, uncordoned$/,
      );
      assert.equal(
        result.failed!.error.hint,
        'find the cause before upgrading it again: pct exec 101 -- journalctl -u k3s-agent -n 50 (on pve1); the snapshot is kept; then run pve-k3s upgrade',
      );
      assert.ok(logs.includes('rolling k3s-worker-1 back to snapshot pre-k3s-v1-33-5-k3s1 (v1.33.3+k3s1)'));
      assert.deepEqual(result.leftCordoned, []);
      assert.deepEqual(result.midUpgrade, []);
      const w1 = f.lab.summary().find((n) => n.name === 'k3s-worker-1')!;
      assert.equal(w1.kubelet, 'v1.33.3+k3s1');
      assert.equal(w1.ready, true);
      assert.deepEqual(cordoned(f.lab), []);
      assert.equal(lastRun(f)?.status, 'failed');
      assertJournalConsistent(f, assert.ok);
    } finally {
      await conn.close();
    }
  });
});

test('GIVEN pct listsnapshot output WHEN parsed THEN snapshot names and times are read and `current` is skipped', () => {
  const text = fixture('pct-listsnapshot.txt');
  const parsed = parseListSnapshot(text);
  assert.ok(parsed.length > 0);
  assert.ok(parsed.every((s) => s.name !== 'current'));
  assert.deepEqual(
    parseListSnapshot(
      '`-> pre-k3s-v1-33-4-k3s1   2026-01-02 03:04:05     x\n `-> current                                   You are here!\n',
    ),
    [{ name: 'pre-k3s-v1-33-4-k3s1', time: '2026-01-02 03:04:05' }],
  );
});
