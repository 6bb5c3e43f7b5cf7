/**
 * Faults during a step, injected in the lab: each ends with a clear error, exit 1, a consistent
 * journal, every cordoned node listed with its fix, and `resume` (or `upgrade`) finishing the job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, assertJournalConsistent, lastRun, kubelets, cordoned, container, background, waitForJournal } from './helpers.js';
import type { LabFixture } from '../helpers/lab-cli.js';
import { INSTALL_SCRIPT_PATH } from '../../src/k3s/install-config.js';
import { cliInProcess, nodeTable } from '../helpers/lab-cli.js';

cliInProcess();

const TARGET = 'v1.33.5+k3s1';
const UNCORDON_2 = /^    pct exec 100 -- \/usr\/local\/bin\/kubectl uncordon k3s-worker-2   \(on lab host pve1\)$/m;

async function resumeFinishes(f: LabFixture, args: string[] = []): Promise<void> {
  const r = await f.cli(['resume', '--yes', ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^Resuming: run \S+ \(target v1\.33\.5\+k3s1, started \S+ by \S+ pid \d+\) is failed; step 1\/k3s-worker-2\/\S+ failed: /m,
  );
  assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
  assert.deepEqual(cordoned(f.lab), []);
  assert.equal(lastRun(f)?.status, 'done');
  assertJournalConsistent(f, assert.ok);
  // The final table (from the run's own last read) is the one status prints right after.
  const s = await f.cli(['status']);
  assert.deepEqual(nodeTable(r.stdout.slice(r.stdout.indexOf('Upgrade complete'))), nodeTable(s.stdout));
}

test('GIVEN the install script failing on one worker WHEN upgrade runs THEN it stops there with the node, the journal records the failed step, and resume finishes', async () => {
  await withLab({}, async (f) => {
    f.lab.addFault({
      match: { vmid: 102, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] },
      effect: { exitCode: 1, stderr: '[ERROR]  Download failed\n' },
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: the k3s install script failed in k3s-worker-2 \(exit 1\): \[ERROR\]  Download failed$/m);
    assert.match(r.stderr, /^  the node still runs its old k3s; see the output with --verbose, fix the cause and run pve-k3s resume$/m);
    assert.match(r.stderr, UNCORDON_2);
    assert.match(
      r.stderr,
      /^Run `pve-k3s resume` to continue this upgrade \(it re-reads the cluster first\), or `pve-k3s upgrade` to plan afresh\.$/m,
    );
    const run = lastRun(f)!;
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.failed, {
      step: '1/k3s-worker-2/install',
      message: 'the k3s install script failed in k3s-worker-2 (exit 1): [ERROR]  Download failed',
    });
    assert.deepEqual(run.leftCordoned, ['k3s-worker-2']);
    await resumeFinishes(f);
  });
});

test('GIVEN a download whose sha256 does not match WHEN upgrade runs THEN the install fails on that node and, once fixed, resume finishes', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      for (const h of s.hosts) for (const c of h.containers) if (c.vmid === 102) c.switches.hashMismatch = true;
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: the k3s install script failed in k3s-worker-2 \(exit 1\): \[ERROR\]  Download sha256 does not match [0-9a-f]{64}, got [0-9a-f]{64}$/m,
    );
    assert.match(r.stderr, UNCORDON_2);
    assert.equal(container(f.lab, 'k3s-worker-2').k3s.binaryVersion, 'v1.33.3+k3s1');
    f.lab.update((s) => {
      for (const h of s.hosts) for (const c of h.containers) if (c.vmid === 102) c.switches.hashMismatch = false;
    });
    await resumeFinishes(f);
  });
});

test('GIVEN pct exec failing with 255 on one node WHEN upgrade runs THEN the step fails naming the node and the exit status, and resume finishes', async () => {
  await withLab({}, async (f) => {
    // Twice: the runner reads a node's service files ahead (a failure there is retried silently), then at its install.
    f.lab.addFault({
      match: { host: 'pve2', argvPrefix: ['pct', 'exec', '102', '--', 'sh', '-s'], level: 'host' },
      effect: { exitCode: 255, stderr: "container '102' not running!\n" },
      times: 2,
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: cannot read the k3s service files of k3s-worker-2 \(exit 255\): container '102' not running!$/m);
    assert.match(r.stderr, UNCORDON_2);
    await resumeFinishes(f);
  });
});

test('GIVEN kubectl missing (127) when draining WHEN upgrade runs THEN the drain fails with the shell message, nothing is left cordoned silently, and resume finishes', async () => {
  await withLab({}, async (f) => {
    f.lab.addFault({
      match: { vmid: 100, argvPrefix: ['/usr/local/bin/kubectl', 'drain', 'k3s-worker-2'], level: 'container' },
      effect: { exitCode: 127, stderr: 'sh: 1: /usr/local/bin/kubectl: not found\n' },
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: draining k3s-worker-2 failed: sh: 1: \/usr\/local\/bin\/kubectl: not found$/m);
    assert.match(r.stderr, UNCORDON_2);
    await resumeFinishes(f);
  });
});

test('GIVEN the SSH connection dropping during an install WHEN upgrade runs THEN it ends cleanly with the node mid-upgrade and cordoned listed, and resume finishes', async () => {
  await withLab({}, async (f) => {
    f.lab.addFault({
      match: { host: 'pve2', argvPrefix: ['pct', 'exec', '102'], contains: 'INSTALL_K3S_VERSION', level: 'host' },
      effect: { dropConnection: true },
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^The upgrade stopped at step 1\/k3s-worker-2\/install\.$/m);
    assert.match(r.stderr, UNCORDON_2);
    assert.match(r.stderr, /^Mid-upgrade \(installed or restarted, health not confirmed\): k3s-worker-2\.$/m);
    assert.match(r.stderr, /^    check it: pct exec 102 -- systemctl status k3s-agent   \(on pve2\)$/m);
    assert.deepEqual(lastRun(f)?.midUpgrade, ['k3s-worker-2']);
    await resumeFinishes(f);
  });
});

test('GIVEN a node that never becomes Ready WHEN upgrade runs THEN its health gate fails with what was last seen, and once it recovers resume finishes', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.nodes['k3s-worker-2']!.neverReady = true;
    });
    // The node is NotReady already, which the preflight refuses: this test is about the health gate.
    const r = await f.cli(['upgrade', '--yes', '--ready-timeout', '1s', '--ignore-preflight', 'node-ready']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: node k3s-worker-2 did not pass its health gate at v1\.33\.5\+k3s1 within 1s \(last seen: NotReady, kubelet v1\.33\.\d\+k3s1\)$/m,
    );
    assert.match(
      r.stderr,
      /^  look at the node: pct exec 102 -- journalctl -u k3s-agent -n 50 \(on pve2\); raise upgrade\.readyTimeout if it is just slow; then run pve-k3s resume$/m,
    );
    assert.match(r.stderr, UNCORDON_2);
    f.lab.update((s) => {
      s.clusters['lab']!.nodes['k3s-worker-2']!.neverReady = false;
    });
    await resumeFinishes(f);
  });
});

test("GIVEN a container stopped during the run WHEN its turn comes THEN pct's error is reported, and after pct start resume finishes", async () => {
  await withLab({}, async (f) => {
    // Hold the drain of k3s-worker-2 long enough to stop its container meanwhile.
    f.lab.addFault({
      match: { vmid: 100, argvPrefix: ['/usr/local/bin/kubectl', 'drain', 'k3s-worker-2'], level: 'container' },
      effect: { delayMs: 400 },
    });
    const bg = background(f, ['upgrade', '--yes']);
    await waitForJournal(f, 'step-start', '1/k3s-worker-2/drain');
    f.lab.update((s) => {
      for (const h of s.hosts)
        for (const c of h.containers)
          if (c.vmid === 102) {
            c.status = 'stopped';
            for (const svc of Object.values(c.k3s.services)) svc.running = false;
          }
    });
    const r = await bg.done;
    assert.equal(r.code, 1);
    // Its service files were read ahead, before it stopped: the install is what finds it stopped.
    assert.match(r.stderr, /^error: cannot run the install script in k3s-worker-2 \(exit 255\): container '102' not running!$/m);
    assert.match(r.stderr, /^  the node still runs its old k3s; start the container \(pct start 102 on pve2\) and run pve-k3s resume$/m);
    assert.match(r.stderr, UNCORDON_2);
    const start = await f.lab.shell('pve2').run(['pct', 'start', '102']);
    assert.equal(start.code, 0, start.stderr);
    await resumeFinishes(f);
  });
});

test('GIVEN a worker whose kubelet never answers /healthz through the apiserver WHEN upgrade runs THEN its gate names it, it is NOT uncordoned, and resume finishes once it answers', async () => {
  await withLab({ workers: 1 }, async (f) => {
    f.lab.addFault({
      match: {
        vmid: 100,
        argvPrefix: ['/usr/local/bin/kubectl', 'get', '--raw', '/api/v1/nodes/k3s-worker-1/proxy/healthz'],
        level: 'container',
      },
      effect: { exitCode: 1, stderr: 'Error from server: error dialing backend: remote error: tls: internal error\n' },
      times: 1000,
    });
    const r = await f.cli(['upgrade', '--yes', '--ready-timeout', '1s']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: node k3s-worker-1 did not pass its health gate at v1\.33\.5\+k3s1 within 1s \(last seen: Ready, but its kubelet does not answer \/healthz: Error from server: error dialing backend: remote error: tls: internal error\)$/m,
    );
    assert.match(r.stderr, /^Cordoned by this upgrade and NOT uncordoned: k3s-worker-1\.$/m);
    f.lab.update((s) => {
      s.faults = [];
    });
    const again = await f.cli(['resume', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assert.deepEqual(cordoned(f.lab), []);
    assertJournalConsistent(f, assert.ok);
  });
});

test('GIVEN the install script cannot be saved ahead WHEN upgrade runs THEN each install downloads it itself and the upgrade completes', async () => {
  await withLab({ workers: 1 }, async (f) => {
    // The read ahead's download fails once per node: the installs still download it and succeed.
    f.lab.addFault({
      match: { level: 'container', argvPrefix: ['sh', '-c', 'mkdir -p /var/lib/pve-k3s && curl -sfL "$1" -o /var/lib/pve-k3s/install.sh'] },
      effect: { exitCode: 6, stderr: 'curl: (6) Could not resolve host: get.k3s.io\n' },
      times: 2,
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(f.lab.state.faults, []);
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
  });
});

test('GIVEN a server whose API keeps failing /readyz WHEN upgrade runs THEN its health gate names the check, and once it answers resume finishes', async () => {
  await withLab({ workers: 1 }, async (f) => {
    f.lab.addFault({
      match: { vmid: 100, argvPrefix: ['/usr/local/bin/kubectl', 'get', '--raw', '/readyz'], level: 'container' },
      effect: { exitCode: 1, stderr: '[-]etcd failed: reason withheld\nreadyz check failed\n' },
      times: 1000,
    });
    const r = await f.cli(['upgrade', '--yes', '--ready-timeout', '1s']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: node k3s-ctrl-1 did not pass its health gate at v1\.33\.5\+k3s1 within 1s \(last seen: Ready, but its API \/readyz answers: \[-\]etcd failed: reason withheld; readyz check failed\)$/m,
    );
    assert.match(r.stderr, /^Mid-upgrade \(installed or restarted, health not confirmed\): k3s-ctrl-1\.$/m);
    f.lab.update((s) => {
      s.faults = [];
    });
    const again = await f.cli(['resume', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    // The node looks done to the planner (Ready at the target); resume re-runs its health gate anyway.
    assert.match(again.stderr, /\[1\/1\] k3s-ctrl-1: wait Ready$/m);
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assertJournalConsistent(f, assert.ok);
  });
});
