/**
 * The run policy under `upgrade --engine suc` (the embedded lab's system-upgrade-controller, the
 * built CLI, virtual clock): canary, soak, the maintenance window and the gates before each
 * node opt-in, notifications, and a worker's rollback to its snapshot after a failed gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, journal, versions, webhook, withSuc } from './suc-lab.js';
import type { LabFixture } from '../../helpers/lab-cli.js';
import { backupPod } from '../../helpers/pods.js';

const OLD = 'v1.33.3+k3s1';
const NEW = 'v1.33.5+k3s1';
const done = (f: LabFixture) =>
  journal(f)
    .filter((x) => x.type === 'step-done')
    .map((x) => x.step!);
/** Nodes with the opt-in label (SUC's own labels stay while the Plans do). */
const optedIn = (f: LabFixture) =>
  Object.values(cluster(f).nodes)
    .filter((n) => n.labels['pve-k3s.io/upgrade'] !== undefined)
    .map((n) => n.name);
/** The nodes in the order SUC made their Jobs (from the run's output). */
const jobOrder = (stderr: string) => [...new Set([...stderr.matchAll(/-on-(k3s-[a-z0-9-]+?)-with-/g)].map((m) => m[1]))];
/** `HH:MM` in UTC, `minutes` from the lab's now (floored to the minute). */
const hhmm = (f: LabFixture, minutes: number) => {
  const t = new Date(Math.floor(f.lab.clock.now() / 60_000) * 60_000 + minutes * 60_000);
  return `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
};

test('GIVEN a server canary with --canary-soak WHEN upgrade --engine suc runs THEN the canary is opted in first and alone, soaks, and only then the other server and the workers go', async () => {
  await withSuc({ servers: 3, workers: 2 }, async (f) => {
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--canary', 'k3s-server-1', '--canary-soak', '2m']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Canary: k3s-server-1 goes first, alone; the rest follow once it has stayed healthy for 2m$/m);
    assert.deepEqual(jobOrder(r.stderr), ['k3s-server-1', 'k3s-server-2', 'k3s-server-3', 'k3s-worker-1', 'k3s-worker-2']);
    const d = done(f);
    assert.ok(d.indexOf('1/k3s-server-1/soak') > d.indexOf('1/k3s-server-1/wait-ready'), d.join(' '));
    const lines = journal(f);
    assert.ok(
      lines.findIndex((x) => x.type === 'step-done' && x.step === '1/k3s-server-1/soak') <
        lines.findIndex((x) => x.type === 'step-start' && x.node === 'k3s-server-2'),
      'the other server starts after the soak',
    );
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
    assert.deepEqual(cluster(f).suc?.plans, []);
  });
});

test('GIVEN the servers already upgraded WHEN upgrade --engine suc --canary <worker> --parallel 2 runs THEN the worker canary goes first and alone (confirmed by --yes), then two at a time', async () => {
  await withSuc({ workers: 4, nodeVersions: { 'k3s-ctrl-1': NEW } }, async (f) => {
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--canary', 'k3s-worker-3', '--parallel', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jobOrder(r.stderr)[0], 'k3s-worker-3');
    const lines = journal(f);
    const soakDone = lines.findIndex((x) => x.type === 'step-done' && x.step === '1/k3s-worker-3/soak');
    assert.equal(lines[soakDone]?.note, 'confirmed by --yes');
    const firstOther = lines.findIndex((x) => x.type === 'step-start' && x.node !== undefined && x.node !== 'k3s-worker-3');
    assert.ok(soakDone >= 0 && soakDone < firstOther, 'no other worker started before the canary was confirmed');
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
  });
});

test('GIVEN a canary that goes bad during its soak WHEN upgrade --engine suc runs THEN the run stops there with no other node started, the Plans stay, and resume checks the canary first and finishes', async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => {
      s.clusters.lab!.nodes['k3s-ctrl-1']!.failsAfter = { version: NEW, ms: 60_000 };
    });
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--canary', 'k3s-ctrl-1', '--canary-soak', '5m']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: k3s-ctrl-1 went bad during its soak after 1m\d*s?: k3s-ctrl-1 is not Ready \(KubeletNotReady: container runtime is down/m,
    );
    assert.match(r.stderr, /^The upgrade stopped at step 1\/k3s-ctrl-1\/soak\.$/m);
    const v = versions(f);
    assert.equal(v['k3s-ctrl-1'], NEW);
    assert.deepEqual([v['k3s-worker-1'], v['k3s-worker-2'], v['k3s-worker-3']], [OLD, OLD, OLD], 'no other node started');
    assert.deepEqual(optedIn(f), []);
    assert.equal(cluster(f).suc!.plans.length, 2, 'the Plans stay for resume');
    f.lab.update((s) => {
      delete s.clusters.lab!.nodes['k3s-ctrl-1']!.failsAfter;
    });
    const again = await f.cli(['resume', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /engine: system-upgrade-controller \(the run left its Plans in the cluster\)/);
    assert.match(again.stdout, /^ {2}1\. k3s-ctrl-1 \(server, CT \d+ on pve\d\): wait Ready at v1\.33\.5\+k3s1$/m);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
    assert.deepEqual(cluster(f).suc?.plans, []);
  });
});

test('GIVEN --soak WHEN upgrade --engine suc runs THEN each node but the last soaks before the next is opted in, journaled in SUC order (servers first)', async () => {
  await withSuc({}, async (f) => {
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--soak', '30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}1\. k3s-ctrl-1 \(server, .*, soak 30s$/m);
    const d = done(f);
    assert.deepEqual(
      d.filter((s) => s.endsWith('/soak')),
      ['1/k3s-ctrl-1/soak', '1/k3s-worker-1/soak', '1/k3s-worker-2/soak'],
    );
    assert.equal(d[d.indexOf('1/k3s-worker-1/soak') + 1], '1/k3s-worker-2/drain');
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
  });
});

test('GIVEN a maintenance window that closes during an upgrade --engine suc WHEN the next node would be opted in THEN the run stops before it (recorded stopped), and resume goes on in the next window', async () => {
  await withSuc({}, async (f) => {
    const win = `${hhmm(f, -1)}-${hhmm(f, 6)}`;
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--window', win, '--soak', '5m']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const m = new RegExp(
      `stopped before (k3s-[a-z0-9-]+): the maintenance window \\(every day ${win} UTC\\) is closed; the next one opens `,
    ).exec(r.stderr);
    assert.ok(m, r.stderr);
    const next = m[1]!;
    assert.match(r.stderr, new RegExp(`^The upgrade was stopped before step 1/${next}/drain\\.$`, 'm'));
    assert.equal(versions(f)[next], OLD);
    assert.equal(versions(f)['k3s-ctrl-1'], NEW);
    assert.ok(!(cluster(f).suc?.jobs ?? []).some((j) => j.node === next), 'never opted in');
    assert.deepEqual(optedIn(f), []);
    const end = journal(f)
      .filter((x) => x.type === 'run-end')
      .at(-1);
    assert.equal(end?.status, 'stopped');
    assert.match(end?.message ?? '', /the maintenance window .* is closed/);
    const resumed = await f.cli(['resume', '--yes', '--window', win, '--wait-for-window']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /engine: system-upgrade-controller/);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
  });
});

test('GIVEN a backup pod on a worker WHEN upgrade --engine suc runs with --blocking-pod-selector THEN that worker is never opted in and the run stops before it after --gate-timeout; once the pod is gone resume finishes', async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => {
      s.clusters.lab!.pods.push(backupPod('k3s-worker-2'));
    });
    const r = await f.cli([
      'upgrade',
      '--engine',
      'suc',
      '--yes',
      '--blocking-pod-selector',
      'app=backup,tier=batch',
      '--gate-timeout',
      '1m',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^stopped: the gate before k3s-worker-2 stayed closed for 1m: pod on k3s-worker-2: ops\/nightly-backup \(app=backup,tier=batch\)$/m,
    );
    assert.match(r.stderr, /^ {2}nothing was started on k3s-worker-2; `pve-k3s resume` checks the gate again/m);
    const v = versions(f);
    assert.equal(v['k3s-worker-1'], NEW);
    assert.equal(v['k3s-worker-2'], OLD);
    assert.ok(!(cluster(f).suc?.jobs ?? []).some((j) => j.node === 'k3s-worker-2'));
    f.lab.update((s) => {
      s.clusters.lab!.pods = s.clusters.lab!.pods.filter((x) => x.name !== 'nightly-backup');
    });
    const again = await f.cli(['resume', '--yes', '--blocking-pod-selector', 'app=backup,tier=batch']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
  });
});

test('GIVEN --notify WHEN upgrade --engine suc runs THEN the webhook gets the run start, each node done, and the end', async () => {
  const h = await webhook();
  try {
    await withSuc({}, async (f) => {
      const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--notify', h.url]);
      assert.equal(r.code, 0, r.stderr);
      const events = h.bodies.map((b) => String(b['event']));
      assert.deepEqual([events[0], events.at(-1)], ['run-start', 'run-complete']);
      // Each node's notice is sent as it is done; they may arrive in any order.
      const nodes = h.bodies.filter((b) => b['event'] === 'node-done');
      assert.deepEqual(nodes.map((b) => b['node']).sort(), ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']);
      assert.ok(nodes.every((b) => b['from'] === OLD && b['to'] === NEW && typeof b['durationMs'] === 'number'));
      assert.equal(h.bodies.at(-1)!['nodesDone'], 4);
      assert.equal(events.length, 6);
    });
  } finally {
    await h.close();
  }
});

test('GIVEN --snapshot and a worker that never gets Ready at the new version WHEN its SUC Job completes THEN pve-k3s rolls it back to its snapshot (as over SSH), opts it out, and resume makes it a new Job', async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => {
      s.clusters.lab!.nodes['k3s-worker-2']!.failsAfter = { version: NEW, ms: 0 };
    });
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(f.inventory, `${readFileSync(f.inventory, 'utf8')}upgrade:\n  readyTimeout: 30s\n`);
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--snapshot']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: node k3s-worker-2 did not pass its health gate at v1\.33\.5\+k3s1 within 30s \(last seen: .*\); it was rolled back to snapshot pre-k3s-v1-33-5-k3s1 and runs v1\.33\.3\+k3s1 again, uncordoned$/m,
    );
    assert.match(r.stderr, /rolling k3s-worker-2 back to snapshot pre-k3s-v1-33-5-k3s1 \(v1\.33\.3\+k3s1\)/);
    // The SUC run goes on with resume (it finds our Plans); a plain `pve-k3s upgrade` would take the SSH engine.
    assert.match(r.stderr, /^ {2}find the cause before upgrading it again: .*; the snapshot is kept; then run pve-k3s resume$/m);
    assert.match(r.stderr, /^No node was left cordoned\.$/m);
    const w2 = cluster(f).nodes['k3s-worker-2']!;
    assert.equal(versions(f)['k3s-worker-2'], OLD);
    assert.equal(w2.unschedulable, false);
    assert.equal(w2.labels['pve-k3s.io/upgrade'], undefined, 'opted out');
    assert.equal(w2.labels['plan.upgrade.cattle.io/pve-k3s-lab-1-agent'], undefined, "SUC's label of the Job done is gone");
    assert.equal(versions(f)['k3s-worker-3'], OLD, 'no node after the failure');
    f.lab.update((s) => {
      delete s.clusters.lab!.nodes['k3s-worker-2']!.failsAfter;
    });
    const again = await f.cli(['resume', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /k3s-worker-2: install done .*by SUC Job system-upgrade\/apply-pve-k3s-lab-1-agent-on-k3s-worker-2-with-/);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set([NEW]));
  });
});
