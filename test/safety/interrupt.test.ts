/** The process killed or interrupted mid-run, a second operator, the lock, resume and abandon. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, assertJournalConsistent, lastRun, journal, kubelets, cordoned, background, waitForJournal } from './helpers.js';
import { INSTALL_SCRIPT_PATH } from '../../src/k3s/install-config.js';
import { cliInProcess } from '../helpers/lab-cli.js';

cliInProcess();

const TARGET = 'v1.33.5+k3s1';
const LOCK = 'pve-k3s.io/upgrade-lock';

test('GIVEN an upgrade killed (SIGKILL) during an install WHEN upgrade runs again THEN it refuses and says how to resume; status shows the lock; resume finishes the job', async () => {
  await withLab({}, async (f) => {
    f.lab.addFault({ match: { vmid: 102, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 3000 } });
    const bg = background(f, ['upgrade', '--yes']);
    await waitForJournal(f, 'step-start', '1/k3s-worker-2/install');
    bg.child.kill('SIGKILL');
    await bg.done;
    const killed = lastRun(f)!;
    assert.equal(killed.status, undefined);
    assert.equal(killed.inFlight, '1/k3s-worker-2/install');

    const again = await f.cli(['upgrade', '--yes']);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^error: cannot upgrade lab: upgrade interrupted: step 6\/14 k3s-worker-2 install was in flight, by \S+@\S+ since \d\d:\d\d \(its process is gone\)$/m,
    );
    assert.match(
      again.stderr,
      /^  continue it with `pve-k3s resume`, or forget it with `pve-k3s abandon` \(then `pve-k3s upgrade` re-reads the cluster\)$/m,
    );

    const st = await f.cli(['status']);
    assert.match(
      st.stdout,
      /^upgrade interrupted: step 6\/14 k3s-worker-2 install was in flight, by \S+@\S+ since \d\d:\d\d; its process is gone \(pve-k3s resume continues it, pve-k3s abandon forgets it\)$/m,
    );
    const doc = JSON.parse((await f.cli(['status', '-o', 'json'])).stdout);
    assert.equal(doc.operation.run, killed.run);
    assert.deepEqual(doc.operation.inFlight, [{ step: '1/k3s-worker-2/install', node: 'k3s-worker-2', index: 6 }]);
    assert.equal(doc.lease.name, 'kube-system/pve-k3s-lab');
    assert.match(doc.lease.holder, new RegExp(` run ${killed.run} upgrade$`));

    const r = await f.cli(['resume', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Resuming: run ${killed.run} \\(target v1\\.33\\.5\\+k3s1, started \\S+ by \\S+ pid \\d+\\) is recorded in progress \\(its process ended without finishing\\); step 1/k3s-worker-2/install was in flight$`,
        'm',
      ),
    );
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assert.deepEqual(cordoned(f.lab), []);
    const recs = journal(f);
    assert.ok(recs.some((x) => x.type === 'run-end' && x.run === killed.run && x.status === 'resumed'));
    assert.equal(lastRun(f)?.status, 'done');
    // Nothing is held once the resumed run ended.
    assert.doesNotMatch((await f.cli(['status'])).stdout, /in progress|interrupted/);
    assert.equal(JSON.parse((await f.cli(['status', '-o', 'json'])).stdout).lease.holder, null);
  });
});

test('GIVEN a first SIGINT during a drain WHEN the node finishes THEN the run stops before the next node, nothing is left cordoned, and resume finishes', async () => {
  await withLab({}, async (f) => {
    f.lab.addFault({
      match: { vmid: 100, argvPrefix: ['/usr/local/bin/kubectl', 'drain', 'k3s-worker-1'], level: 'container' },
      effect: { delayMs: 300 },
    });
    const bg = background(f, ['upgrade', '--yes']);
    await waitForJournal(f, 'step-start', '1/k3s-worker-1/drain');
    bg.child.kill('SIGINT');
    const r = await bg.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /warning: SIGINT: stopping after the current node \(press Ctrl-C again to abort the step in flight now\)$/m);
    assert.match(r.stderr, /^The upgrade was stopped before step 1\/k3s-worker-2\/drain\.$/m);
    assert.match(r.stderr, /^No node was left cordoned\.$/m);
    assert.equal(lastRun(f)?.status, 'stopped');
    assert.deepEqual(cordoned(f.lab), []);
    const again = await f.cli(['resume', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assertJournalConsistent(f, assert.ok);
  });
});

test('GIVEN an older pve-k3s holds its annotation lock WHEN upgrade runs THEN it is refused with who and since when, and nothing changes; an expired lock is taken over and migrated', async () => {
  await withLab({ workers: 1 }, async (f) => {
    const since = '2026-01-02T03:04:05.000Z';
    const lock = (expires: string) =>
      f.lab.update((s) => {
        s.clusters['lab']!.nodes['k3s-ctrl-1']!.annotations[LOCK] = JSON.stringify({
          holder: 'alice@laptop pid 4242',
          run: 'alice-run',
          since,
          expires,
        });
      });
    lock(new Date(Date.now() + 3_600_000).toISOString());
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: cannot upgrade lab: it is locked by alice@laptop pid 4242 since 2026-01-02T03:04:05\.000Z \(run alice-run, expires \S+\), the lock of an older pve-k3s$/m,
    );
    assert.match(
      r.stderr,
      /^  wait for that upgrade to end\. If its process is gone, the lock expires at \S+, or remove it by hand: kubectl annotate node k3s-ctrl-1 pve-k3s\.io\/upgrade-lock-$/m,
    );
    assert.deepEqual(kubelets(f.lab), new Set(['v1.33.3+k3s1']));
    assert.deepEqual(journal(f), []);
    assert.match(
      (await f.cli(['status'])).stdout,
      /^lock: upgrade lock held by alice@laptop pid 4242 since 2026-01-02T03:04:05\.000Z \(run alice-run, expires \S+; an older pve-k3s's annotation lock\)$/m,
    );

    lock(new Date(Date.now() - 1000).toISOString());
    const ok = await f.cli(['upgrade', '--yes']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assert.equal(f.lab.state.clusters['lab']!.nodes['k3s-ctrl-1']!.annotations[LOCK], undefined);
  });
});

test('GIVEN a killed run WHEN abandon runs THEN the journal closes it, its lock is released, cordoned nodes are listed with the fix, and upgrade may start again', async () => {
  await withLab({ workers: 2 }, async (f) => {
    f.lab.addFault({ match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 3000 } });
    const bg = background(f, ['upgrade', '--yes']);
    await waitForJournal(f, 'step-start', '1/k3s-worker-1/install');
    bg.child.kill('SIGKILL');
    await bg.done;
    const a = await f.cli(['abandon']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(
      a.stdout,
      /^Abandoned: run \S+ \(target v1\.33\.5\+k3s1, started \S+ by \S+ pid \d+\) is recorded in progress \(its process ended without finishing\); step 1\/k3s-worker-1\/install was in flight\.$/m,
    );
    assert.match(a.stdout, /^Released its cluster lease \(held by \S+ pid \d+ run \S+ upgrade\)\.$/m);
    assert.match(
      a.stdout,
      /^Still cordoned by pve-k3s: k3s-worker-1\. `pve-k3s upgrade` uncordons them when they are back at the target; to uncordon by hand now:$/m,
    );
    assert.match(a.stdout, /^    pct exec 100 -- \/usr\/local\/bin\/kubectl uncordon k3s-worker-1   \(on lab host pve1\)$/m);
    assert.equal(lastRun(f)?.status, 'abandoned');
    assert.equal(
      (await f.cli(['resume', '--yes'])).stdout,
      `Nothing to resume: the last upgrade of lab (run ${lastRun(f)!.run}) is abandoned.\n`,
    );
    const up = await f.cli(['upgrade', '--yes']);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(kubelets(f.lab), new Set([TARGET]));
    assert.deepEqual(cordoned(f.lab), []);
  });
});
