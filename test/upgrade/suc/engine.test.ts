/** `upgrade --engine suc` on the embedded lab's system-upgrade-controller (the built CLI, real argv, virtual clock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../helpers/lab-cli.js';
import { labPolicyProblem } from '../../../src/lab/index.js';
import { cluster, optedIn, versions, withSuc } from './suc-lab.js';

test('GIVEN a lab without system-upgrade-controller WHEN upgrade --engine suc runs THEN it is refused before planning, naming the missing CRD and `pve-k3s suc install`; nothing changes', async () => {
  await withSuc(
    {},
    async (f) => {
      const r = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /error: system-upgrade-controller is not installed in cluster lab: the CRD plans\.upgrade\.cattle\.io is missing/,
      );
      assert.match(r.stderr, /pve-k3s suc install/);
      assert.equal(r.stdout, '');
      assert.deepEqual(new Set(Object.values(versions(f))), new Set(['v1.33.3+k3s1']));
    },
    false,
  );
});

test('GIVEN Rancher manages the cluster WHEN upgrade --engine suc runs THEN it is refused: Rancher owns its Plans', async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => labPolicyProblem(s, 'k3s-ctrl-1', 'rancher'));
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /error: Rancher manages cluster lab \(deployment cattle-system\/cattle-cluster-agent\): Rancher owns the system-upgrade-controller Plans/,
    );
    assert.deepEqual(cluster(f).suc?.plans, []);
  });
});

test('GIVEN SUC WHEN a patch upgrade runs with --engine suc THEN SUC Jobs upgrade every node, pve-k3s gates each, the Plans and labels are gone after, and the run is recorded done', async () => {
  await withSuc({}, async (f) => {
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Upgrade complete: 4 node\(s\) of lab now at v1\.33\.5\+k3s1/);
    assert.match(r.stderr, /engine: system-upgrade-controller does the node work/);
    assert.match(
      r.stderr,
      /k3s-worker-1: install done \(.*\): binary swapped and k3s restarted by SUC Job system-upgrade\/apply-pve-k3s-lab-1-agent-on-k3s-worker-1-with-/,
    );
    assert.match(r.stderr, /k3s-worker-1: uncordon done .*uncordoned by SUC when its Job completed/);
    assert.match(r.stderr, /deleted the SUC Plans of lab \(pve-k3s-lab-1-server, pve-k3s-lab-1-agent\)/);
    // Servers first (the agent Plan's prepare waits for them), then the workers in the plan's order.
    const order = [...r.stderr.matchAll(/\] (k3s-[a-z0-9-]+): (?:drain|install)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(order)], ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set(['v1.33.5+k3s1']));
    assert.deepEqual(cluster(f).suc?.plans, []);
    assert.deepEqual(optedIn(f), []);
    assert.ok(
      Object.values(cluster(f).nodes).every((n) => !n.unschedulable && n.annotations['pve-k3s.io/cordoned-for-upgrade'] === undefined),
    );
    const s = await f.cli(['status']);
    assert.doesNotMatch(s.stdout + s.stderr, /in progress/);
    const again = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Nothing to do/);
  });
});

test('GIVEN a cluster two minors behind WHEN upgrade --engine suc --k3s-version v1.33.5+k3s1 THEN each node goes through v1.32.9 first, one phase of Plans at a time', async () => {
  await withSuc({ version: 'v1.31.13+k3s1', workers: 2 }, async (f) => {
    const r = await f.cli(['upgrade', '--engine', 'suc', '--k3s-version', 'v1.33.5+k3s1', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /phase 1\/2: minor upgrade to v1\.32\.9\+k3s1/);
    assert.match(r.stderr, /phase 2\/2: minor upgrade to v1\.33\.5\+k3s1/);
    assert.match(r.stderr, /by SUC Job system-upgrade\/apply-pve-k3s-lab-1-server-on-k3s-ctrl-1-with-/);
    assert.match(r.stderr, /by SUC Job system-upgrade\/apply-pve-k3s-lab-2-agent-on-k3s-worker-2-with-/);
    const p1 = r.stderr.indexOf('phase 2/2');
    assert.ok(r.stderr.lastIndexOf('pve-k3s-lab-1-agent-on-k3s-worker-2') < p1, 'every node finishes phase 1 before phase 2 starts');
    assert.deepEqual(new Set(Object.values(versions(f))), new Set(['v1.33.5+k3s1']));
    assert.match(
      r.stderr,
      /deleted the SUC Plans of lab \(pve-k3s-lab-1-server, pve-k3s-lab-1-agent, pve-k3s-lab-2-server, pve-k3s-lab-2-agent\)/,
    );
  });
});

test("GIVEN a worker whose SUC Job fails WHEN upgrade --engine suc runs THEN it stops there showing the Job's reason and pod log, the node left cordoned and opted out; suc abandon deletes the Plans and uncordons it", async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => {
      s.clusters.lab!.suc!.faults = [
        { node: 'k3s-worker-2', exitCode: 1, log: 'level=fatal msg="cannot copy k3s to /host/usr/local/bin: no space left on device"' },
      ];
    });
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /error: the SUC Job system-upgrade\/apply-pve-k3s-lab-1-agent-on-k3s-worker-2-with-\S+ failed on k3s-worker-2: BackoffLimitExceeded: Job has reached the specified backoff limit/,
    );
    assert.match(r.stderr, /no space left on device/);
    assert.match(r.stderr, /The upgrade stopped at step 1\/k3s-worker-2\/drain\./);
    assert.match(r.stderr, /Cordoned by this upgrade and NOT uncordoned: k3s-worker-2\./);
    const v = versions(f);
    assert.equal(v['k3s-worker-1'], 'v1.33.5+k3s1');
    assert.equal(v['k3s-worker-2'], 'v1.33.3+k3s1');
    assert.equal(v['k3s-worker-3'], 'v1.33.3+k3s1', 'no node after the failure');
    assert.equal(cluster(f).nodes['k3s-worker-2']!.unschedulable, true);
    assert.equal(cluster(f).nodes['k3s-worker-2']!.labels['pve-k3s.io/upgrade'], undefined, 'opted out: SUC does not retry by itself');
    assert.equal(cluster(f).suc!.plans.length, 2, 'the Plans stay for resume or abandon');

    const a = await f.cli(['suc', 'abandon']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /Deleted the SUC Plans of lab \(pve-k3s-lab-1-server, pve-k3s-lab-1-agent\): SUC deletes their Jobs\./);
    assert.match(a.stdout, /Uncordoned what the run cordoned: k3s-worker-2\./);
    assert.match(a.stdout, /^Abandoned: run /m);
    assert.deepEqual(cluster(f).suc?.plans, []);
    assert.deepEqual(cluster(f).suc?.jobs, []);
    assert.equal(cluster(f).nodes['k3s-worker-2']!.unschedulable, false);
    assert.deepEqual(optedIn(f), []);
  });
});

test('GIVEN a failed SUC run whose cause is fixed WHEN pve-k3s resume runs THEN it continues with SUC (its Plans are in the cluster), makes a new Job and finishes', async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => {
      s.clusters.lab!.suc!.faults = [{ node: 'k3s-worker-1', exitCode: 1, log: 'boom' }];
    });
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    f.lab.update((s) => {
      s.clusters.lab!.suc!.faults = [];
    });
    const again = await f.cli(['resume', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /engine: system-upgrade-controller \(the run left its Plans in the cluster\)/);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set(['v1.33.5+k3s1']));
    assert.deepEqual(cluster(f).suc?.plans, []);
    assert.ok(Object.values(cluster(f).nodes).every((n) => !n.unschedulable));
  });
});

test('GIVEN a worker cordoned before the run WHEN upgrade --engine suc runs THEN SUC never touches it (disabled label while the Plans exist), it stays cordoned at its version, and the rest are upgraded', async () => {
  await withSuc({}, async (f) => {
    f.lab.update((s) => {
      s.clusters.lab!.nodes['k3s-worker-3']!.unschedulable = true;
    });
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /k3s-worker-3: cordoned before the run: SUC leaves it alone \(labelled disabled for pve-k3s-lab-1-agent\)/);
    assert.match(r.stderr, /k3s-worker-3: cordoned before the run: left alone at its version/);
    assert.doesNotMatch(r.stderr, /on-k3s-worker-3-with/);
    const v = versions(f);
    assert.equal(v['k3s-worker-3'], 'v1.33.3+k3s1');
    assert.equal(v['k3s-worker-2'], 'v1.33.5+k3s1');
    const w3 = cluster(f).nodes['k3s-worker-3']!;
    assert.equal(w3.unschedulable, true, 'still cordoned');
    assert.deepEqual(optedIn(f), [], 'the disabled labels go with the Plans');
  });
});

test('GIVEN an upgrade --engine suc in flight WHEN suc pause runs THEN the node in flight finishes and no new node starts (stopped, exit 1); suc resume finishes the run', async () => {
  // Jobs long enough in real time for the test to act while the clock is held.
  await withSuc({ timing: { installMs: 8000, restartMs: 400, drainPerPodMs: 2, pctExecMs: 0, sshRttMs: 0 } }, async (f) => {
    const release = f.lab.clock.hold();
    const run = f.cli(['upgrade', '--engine', 'suc', '--yes']);
    const settled = run.catch(() => undefined);
    try {
      for (let i = 0; i < 500 && (cluster(f).suc?.jobs.length ?? 0) === 0; i++) await new Promise((res) => setTimeout(res, 20));
      assert.equal(cluster(f).suc?.jobs[0]?.node, 'k3s-ctrl-1');
      const p = await runCli(['suc', 'pause'], { cwd: f.dir, env: f.env });
      assert.equal(p.code, 0, p.stderr);
      assert.match(
        p.stdout,
        /^Paused the SUC run of lab: Plans pve-k3s-lab-1-server, pve-k3s-lab-1-agent marked paused; no new node starts\.$/m,
      );
      assert.match(p.stdout, /Still finishing \(their Jobs run\): k3s-ctrl-1\./);
    } catch (err) {
      release();
      await settled;
      throw err;
    } finally {
      release();
    }
    const r = await run;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /The upgrade was stopped before step 1\/k3s-worker-1\/drain\./);
    const v = versions(f);
    assert.equal(v['k3s-ctrl-1'], 'v1.33.5+k3s1');
    assert.equal(v['k3s-worker-1'], 'v1.33.3+k3s1');
    assert.deepEqual(
      cluster(f).suc!.jobs.filter((j) => j.node !== 'k3s-ctrl-1'),
      [],
    );

    const s = await f.cli(['suc', 'resume', '--yes']);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(new Set(Object.values(versions(f))), new Set(['v1.33.5+k3s1']));
    assert.deepEqual(cluster(f).suc?.plans, []);
  });
});

test('GIVEN a worker canary in an upgrade that also changes the server, or --order workers-first, WHEN upgrade --engine suc runs THEN it is refused (exit 2) saying why and what works; nothing changes', async () => {
  await withSuc({}, async (f) => {
    const r = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--soak', '5m', '--canary', 'k3s-worker-1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: --engine suc cannot upgrade the worker canary k3s-worker-1 first: this upgrade also changes server k3s-ctrl-1, and system-upgrade-controller's agent Plan waits \(prepare\) until every server runs the new version$/m,
    );
    assert.match(
      r.stderr,
      /nothing was changed; choose a server as the canary \(--canary k3s-ctrl-1\), or upgrade the servers first \(pve-k3s upgrade --engine suc --node k3s-ctrl-1\) and then the workers with --canary k3s-worker-1, or upgrade over SSH \(without --engine suc\), which can upgrade a worker first/,
    );
    const o = await f.cli(['upgrade', '--engine', 'suc', '--yes', '--order', 'workers-first']);
    assert.equal(o.code, 2, o.stderr);
    assert.match(
      o.stderr,
      /^error: --engine suc cannot upgrade workers first \(--order workers-first, upgrade\.order\): system-upgrade-controller's agent Plan waits \(prepare\) until every server runs the phase's version$/m,
    );
    assert.deepEqual(new Set(Object.values(versions(f))), new Set(['v1.33.3+k3s1']));
    assert.deepEqual(optedIn(f), []);
    assert.deepEqual(cluster(f).suc?.plans, []);
  });
});
