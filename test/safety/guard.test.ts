/**
 * The guarded operation, path by path: what is taken in which order, what is left where after
 * each kind of failure, and that resume and abandon can act on it from this machine or another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, operator, upgradeBy, resumeBy, abandonBy, unlessKilled, labLease, labRecord, type World } from './operators.js';
import { ClusterBusyError, guarded, LeaseLostError } from '../../src/operation/guard.js';
import { JournalError, summarize } from '../../src/operation/journal.js';
import { INSTALL_SCRIPT_PATH } from '../../src/k3s/install-config.js';

const TARGET = 'v1.33.5+k3s1';
const KUBECTL = '/usr/local/bin/kubectl';

async function withWorld(o: Parameters<typeof makeWorld>[0], fn: (w: World) => Promise<void>): Promise<void> {
  const w = await makeWorld(o);
  try {
    await fn(w);
  } finally {
    await w.close();
  }
}

const kubelets = (w: World) =>
  new Set(
    w.lab
      .summary()
      .filter((n) => n.role)
      .map((n) => n.kubelet),
  );
const cordoned = (w: World) =>
  w.lab
    .summary()
    .filter((n) => n.role && n.schedulable === false)
    .map((n) => n.name);
const waitFor = async (cond: () => boolean, what: string, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};
/** Holds the lab's (virtual) clock until `cond`: what runs meanwhile waits in real time. Returns the release. */
const holdUntil = async (w: World, cond: () => boolean, what: string): Promise<() => void> => {
  const release = w.lab.clock.hold();
  try {
    await waitFor(cond, what);
  } catch (e) {
    release();
    throw e;
  }
  return release;
};
const inFlight = (op: ReturnType<typeof operator>, step: string) => () =>
  op.journal.read().some((r) => r.type === 'step-start' && r.step === step);

test('GIVEN a state directory whose journal cannot be written WHEN an upgrade starts THEN it is refused before the lease is taken, naming the journal', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const a = operator(w, 'alice');
    writeFileSync(join(a.stateDir, 'journal'), 'not a directory');
    await assert.rejects(upgradeBy(a), (e: unknown) => {
      assert.ok(e instanceof JournalError);
      const blocker = join(a.stateDir, 'journal');
      // The file in the way is named, with the system's code, not its raw text.
      assert.match(e.message, /^cannot write the journal \S+\/journal\/lab\.jsonl: \S+ is a file, not a directory \((EEXIST|ENOTDIR)\)$/);
      assert.ok(e.message.includes(`${a.journal.file}: ${blocker} is a file`), e.message);
      assert.equal(
        e.hint,
        `move ${blocker} away, or set XDG_STATE_HOME to a writable directory; pve-k3s records every step there before it changes the cluster, and nothing was changed`,
      );
      assert.equal(e.exitCode, 1);
      return true;
    });
    assert.equal(labLease(w), undefined, 'no lease was taken');
    assert.deepEqual(kubelets(w), new Set(['v1.33.3+k3s1']));
  });
});

test('GIVEN the journal breaks after the lease is taken WHEN the run would start THEN the lease is released, no run is recorded anywhere, nothing changed', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const a = operator(w, 'alice');
    // The lease creation is slow; meanwhile the journal file becomes a directory.
    w.lab.addFault({ match: { vmid: 100, argvPrefix: [KUBECTL, 'create'], level: 'container' }, effect: { delayMs: 150 } });
    const p = upgradeBy(a);
    await waitFor(() => existsSync(a.journal.file), 'the journal to be checked');
    await new Promise((r) => setTimeout(r, 60));
    rmSync(a.journal.file, { force: true });
    mkdirSync(a.journal.file);
    await assert.rejects(p, (e: unknown) => e instanceof JournalError && /cannot (read|write) the journal/.test(e.message));
    const l = labLease(w)!;
    assert.equal(l.spec.holderIdentity, '', 'released');
    assert.equal(l.annotations?.['pve-k3s.io/run'], undefined, 'no run record');
    assert.deepEqual(kubelets(w), new Set(['v1.33.3+k3s1']));
  });
});

test('GIVEN an upgrade holding the cluster WHEN a second operator starts an upgrade THEN it is refused naming the upgrade, its holder and the step in flight, and its journal stays empty', async () => {
  await withWorld({ workers: 2, clock: 'virtual' }, async (w) => {
    const a = operator(w, 'alice', { host: 'laptop' });
    const b = operator(w, 'bob', { host: 'desk' });
    // The install takes a minute of the lab's time; its clock is held (real time) until B has been refused.
    w.lab.addFault({ match: { vmid: 102, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 60_000 } });
    const run = upgradeBy(a);
    const release = await holdUntil(w, inFlight(a, '1/k3s-worker-2/install'), 'the install of k3s-worker-2');
    await assert.rejects(upgradeBy(b).finally(release), (e: unknown) => {
      assert.ok(e instanceof ClusterBusyError, String(e));
      assert.match(
        e.message,
        /^cannot upgrade lab: upgrade in progress: step 6\/10 k3s-worker-2 install, by alice@laptop since \d\d:\d\d$/,
      );
      assert.match(
        e.hint ?? '',
        /^lease kube-system\/pve-k3s-lab held by alice@laptop pid \d+ run \S+ upgrade, renewed at \d\d:\d\d:\d\d, expires at \d\d:\d\d:\d\d unless renewed\. Wait for that upgrade to end; if its process is gone, `pve-k3s resume` continues it once the lease has expired, or at once with --force-takeover$/,
      );
      return true;
    });
    assert.deepEqual(b.journal.read(), []);
    const r = await run;
    assert.equal(r.ok, true);
    assert.deepEqual(kubelets(w), new Set([TARGET]));
    assert.equal(labLease(w)!.spec.holderIdentity, '');
    assert.equal(labRecord(w)!.state, 'done');
  });
});

test('GIVEN a lease whose holder died WHEN two operators race to take it over THEN exactly one wins and the other is refused naming the winner', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const c = operator(w, 'carol');
    // carol dies holding the lease (a live record: a backup between two steps).
    c.mortal.killAt = 4;
    const dying = guarded(c.env({ leaseSeconds: 1 }), { operation: 'backup --offline', steps: 2 }, async (g) => {
      await g.step('backup/k3s-ctrl-1/stop', 'k3s-ctrl-1', async () => {});
      await g.step('backup/k3s-ctrl-1/copy', 'k3s-ctrl-1', async () => {});
    });
    assert.equal(await unlessKilled(c, dying), 'killed');
    w.clock.offset = 5_000; // carol's lease has expired
    // Both read the same expired lease before either writes.
    w.lab.addFault({ match: { vmid: 100, argvPrefix: [KUBECTL, 'replace'], level: 'container' }, effect: { delayMs: 80 }, times: 2 });
    const a = operator(w, 'alice');
    const b = operator(w, 'bob');
    const body = async () => {
      await new Promise((r) => setTimeout(r, 50));
      return 'ran';
    };
    const results = await Promise.allSettled([
      guarded(a.env(), { operation: 'backup --offline', steps: 1 }, body),
      guarded(b.env(), { operation: 'backup --offline', steps: 1 }, body),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.equal(lost.length, 1);
    const winner = results[0]!.status === 'fulfilled' ? 'alice' : 'bob';
    assert.ok(lost[0]!.reason instanceof ClusterBusyError, String(lost[0]!.reason));
    assert.match(
      (lost[0]!.reason as Error).message,
      new RegExp(`^cannot backup --offline lab: backup --offline in progress: .*, by ${winner}@machine-${winner} since`),
    );
  });
});

test('GIVEN snapshots asked for and unsupported WHEN the upgrade starts THEN the probe runs holding the lease, and its failure releases it with the record as it was and no run in the journal', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const a = operator(w, 'alice');
    // An earlier operation left its record (done).
    await guarded(a.env(), { operation: 'backup --offline', steps: 0 }, async () => undefined);
    const before = labRecord(w)!;
    assert.equal(before.state, 'done');
    w.lab.update((s) => {
      for (const h of s.hosts) for (const c of h.containers) c.switches.snapshotsUnsupported = true;
    });
    const b = operator(w, 'bob');
    const { planCluster } = await import('../../src/upgrade/plan/plan-cluster.js');
    const { executeUpgrade } = await import('../../src/upgrade/run/upgrade-run.js');
    const { plan } = await planCluster(b.conn, {});
    await assert.rejects(
      executeUpgrade(b.conn, plan, {
        env: {},
        emit: () => {},
        order: 'auto',
        allowSkew: false,
        snapshot: { enabled: true, retention: 2 },
        guard: b.env(),
      }),
      /cannot be snapshotted/,
    );
    assert.equal(labLease(w)!.spec.holderIdentity, '');
    assert.deepEqual(labRecord(w), before, 'the record of the last run is kept');
    assert.deepEqual(b.journal.read(), []);
  });
});

test('GIVEN an upgrade killed mid-install WHEN an operator of another machine resumes THEN it is refused while the lease lives, and after it expired continues the run from the cluster record; the killed machine learns it was continued', async () => {
  await withWorld({ workers: 2 }, async (w) => {
    const a = operator(w, 'alice', { host: 'laptop', leaseSeconds: 20 });
    const b = operator(w, 'bob', { host: 'desk' });
    w.lab.addFault({ match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 300 } });
    const run = upgradeBy(a);
    await waitFor(inFlight(a, '1/k3s-worker-1/install'), 'the install');
    a.mortal.kill();
    assert.equal(await unlessKilled(a, run), 'killed');
    const rec = labRecord(w)!;
    assert.equal(rec.state, 'running');
    assert.deepEqual(
      rec.inFlight.map((f) => [f.step, f.index]),
      [['1/k3s-worker-1/install', 2]],
    );
    assert.deepEqual(rec.cordoned, ['k3s-worker-1']);
    await assert.rejects(resumeBy(b), (e: unknown) => {
      assert.ok(e instanceof ClusterBusyError);
      assert.match(
        e.message,
        /^cannot resume run \S+: upgrade in progress: step 2\/10 k3s-worker-1 install, by alice@laptop since \d\d:\d\d$/,
      );
      assert.match(
        e.hint ?? '',
        /if its process is gone, run this again once the lease has expired, or pass --force-takeover to break it now$/,
      );
      return true;
    });
    w.clock.offset = 21_000;
    const r = await resumeBy(b);
    assert.ok(typeof r === 'object' && r.ok, JSON.stringify(r));
    assert.deepEqual(kubelets(w), new Set([TARGET]));
    assert.deepEqual(cordoned(w), []);
    assert.match(b.notices.join('\n'), /taking over from run \S+ \(upgrade by alice@laptop; its lease expired at/);
    const done = labRecord(w)!;
    assert.equal(done.state, 'done');
    assert.equal(done.resumes, rec.run);
    assert.equal(labLease(w)!.spec.holderIdentity, '');
    // bob's journal holds his run only; alice's journal is closed from the record on her next command.
    assert.deepEqual(
      b.journal
        .read()
        .map((x) => x.type)
        .filter((t) => t.startsWith('run')),
      ['run-start', 'run-end'],
    );
    const a2 = operator(w, 'alice', { host: 'laptop', stateDir: a.stateDir });
    assert.equal(await resumeBy(a2), 'nothing');
    const end = summarize(a2.journal.read());
    assert.equal(end?.status, 'resumed');
  });
});

test('GIVEN a killed upgrade WHEN the same machine resumes THEN it takes over at once (its process is known dead), without waiting for the lease', async () => {
  await withWorld({ workers: 1, clock: 'virtual' }, async (w) => {
    const a = operator(w, 'alice', { host: 'laptop', leaseSeconds: 3600 });
    // On the lab's clock, held until A is dead: the install cannot end before the kill.
    w.lab.addFault({ match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 60_000 } });
    const run = upgradeBy(a);
    const release = await holdUntil(w, inFlight(a, '1/k3s-worker-1/install'), 'the install');
    a.mortal.kill();
    await unlessKilled(a, run);
    release();
    const a2 = operator(w, 'alice', { host: 'laptop', stateDir: a.stateDir });
    // `upgrade` refuses: the run must be resumed or abandoned first.
    await assert.rejects(upgradeBy(a2), (e: unknown) => {
      assert.ok(e instanceof ClusterBusyError);
      assert.match(
        e.message,
        /^cannot upgrade lab: upgrade interrupted: step 2\/6 k3s-worker-1 install was in flight, by alice@laptop since \d\d:\d\d \(its process is gone\)$/,
      );
      assert.equal(
        e.hint,
        'continue it with `pve-k3s resume`, or forget it with `pve-k3s abandon` (then `pve-k3s upgrade` re-reads the cluster)',
      );
      return true;
    });
    const r = await resumeBy(a2);
    assert.ok(typeof r === 'object' && r.ok, JSON.stringify(r));
    assert.deepEqual(kubelets(w), new Set([TARGET]));
    assert.equal(summarize(a2.journal.read())?.status, 'done');
  });
});

test('GIVEN a live run WHEN another operator resumes with --force-takeover THEN it says whose lease it breaks, and the first run stops before its next step without releasing the new holder', async () => {
  await withWorld({ workers: 2 }, async (w) => {
    const a = operator(w, 'alice', { host: 'laptop' });
    const b = operator(w, 'bob', { host: 'desk' });
    // Both installs of k3s-worker-1 are slow: alice's ends while bob's still runs.
    w.lab.addFault({ match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 1500 }, times: 2 });
    const run = upgradeBy(a);
    await waitFor(inFlight(a, '1/k3s-worker-1/install'), 'the install');
    const taken = resumeBy(b, { forceTakeover: true });
    // bob holds the cluster while alice's install is still in flight.
    await waitFor(() => labLease(w)?.spec.holderIdentity?.startsWith('bob@') ?? false, "bob's lease");
    const first = await run;
    assert.equal(first.ok, false);
    assert.ok(first.leaseLost, `alice learns her lease was taken: ${JSON.stringify({ ...first, failed: first.failed?.error.message })}`);
    assert.match(
      first.leaseLost,
      /^the cluster lease kube-system\/pve-k3s-lab was taken over by bob@desk pid \d+ run \S+ upgrade; this upgrade stopped$/,
    );
    assert.ok(first.failed?.error instanceof LeaseLostError || first.interrupted);
    // Two operators worked on k3s-worker-1 at once (what breaking a live lease risks): bob's run
    // may fail on what alice's left behind; his next resume, alone on the cluster, finishes.
    const second = await taken;
    assert.ok(typeof second === 'object');
    if (!second.ok) {
      const again = await resumeBy(b);
      assert.ok(typeof again === 'object' && again.ok, JSON.stringify(again));
    }
    assert.match(
      b.notices.join('\n'),
      /breaking the cluster lease kube-system\/pve-k3s-lab held by alice@laptop pid \d+ run \S+ upgrade \(upgrade in progress: step 2\/10 k3s-worker-1 install, by alice@laptop since \d\d:\d\d\)/,
    );
    assert.deepEqual(kubelets(w), new Set([TARGET]));
    assert.equal(labLease(w)!.spec.holderIdentity, '');
    assert.equal(labRecord(w)!.state, 'done');
    const aEnd = a.journal.read().find((x) => x.type === 'run-end');
    assert.ok(
      aEnd &&
        aEnd.type === 'run-end' &&
        (aEnd.status === 'failed' || aEnd.status === 'stopped') &&
        /taken over by bob@desk/.test(aEnd.message ?? ''),
      JSON.stringify(aEnd),
    );
  });
});

test('GIVEN the API refuses the final write WHEN the run ends THEN the lease expires by itself, the same machine knows the run ended, and another machine closes it with resume', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const a = operator(w, 'alice', { host: 'laptop', leaseSeconds: 20 });
    const r = await upgradeBy(a, {
      emit: (e) => {
        if (e.kind === 'step-done' && e.step.id === '1/k3s-ctrl-1/wait-ready')
          w.lab.addFault({
            match: { vmid: 100, argvPrefix: [KUBECTL, 'replace'], level: 'container' },
            effect: {
              exitCode: 1,
              stderr: 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n',
            },
            times: 10,
          });
      },
    });
    assert.equal(r.ok, true);
    assert.match(
      a.notices.join('\n'),
      /^warning: could not release the cluster lease kube-system\/pve-k3s-lab \(cannot write the cluster lease .*was refused.*\); it expires by itself at \S+$/m,
    );
    assert.equal(summarize(a.journal.read())?.status, 'done');
    assert.equal(labRecord(w)!.state, 'running');
    w.lab.update((s) => (s.faults = []));
    a.exit();
    // This machine knows better than the stale record: an upgrade may start (nothing to do).
    const again = await upgradeBy(operator(w, 'alice', { host: 'laptop', stateDir: a.stateDir }));
    assert.equal(again.ok, true);
    assert.equal(labLease(w)!.spec.holderIdentity, '');
  });
});

test('GIVEN the old annotation lock WHEN it is live THEN an upgrade is refused naming it; once expired it is taken over, migrated to the lease and removed', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const lock = (expires: string) =>
      w.lab.update((s) => {
        s.clusters['lab']!.nodes['k3s-ctrl-1']!.annotations['pve-k3s.io/upgrade-lock'] = JSON.stringify({
          holder: 'alice@laptop pid 4242',
          run: 'old-run',
          since: '2026-01-02T03:04:05.000Z',
          expires,
        });
      });
    lock(new Date(Date.now() + 3_600_000).toISOString());
    const a = operator(w, 'bob');
    await assert.rejects(upgradeBy(a), (e: unknown) => {
      assert.ok(e instanceof ClusterBusyError);
      assert.match(
        e.message,
        /^cannot upgrade lab: it is locked by alice@laptop pid 4242 since 2026-01-02T03:04:05\.000Z \(run old-run, expires \S+\), the lock of an older pve-k3s$/,
      );
      assert.match(e.hint ?? '', /kubectl annotate node k3s-ctrl-1 pve-k3s\.io\/upgrade-lock-$/);
      return true;
    });
    assert.equal(labLease(w), undefined);
    lock(new Date(Date.now() - 1000).toISOString());
    const r = await upgradeBy(a);
    assert.equal(r.ok, true);
    assert.equal(w.lab.state.clusters['lab']!.nodes['k3s-ctrl-1']!.annotations['pve-k3s.io/upgrade-lock'], undefined);
    assert.match(a.notices.join('\n'), /removed the old annotation lock of alice@laptop pid 4242 \(run old-run\) from k3s-ctrl-1/);
  });
});

test('GIVEN a long step WHEN the lease is short THEN the holder renews it meanwhile and a second operator stays refused', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const a = operator(w, 'alice', { leaseSeconds: 1, renewMs: 150 });
    const b = operator(w, 'bob');
    w.lab.addFault({ match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 1600 } });
    const run = upgradeBy(a);
    await waitFor(inFlight(a, '1/k3s-worker-1/install'), 'the install');
    const renewed0 = labLease(w)!.spec.renewTime;
    await new Promise((r) => setTimeout(r, 1200));
    assert.notEqual(labLease(w)!.spec.renewTime, renewed0);
    await assert.rejects(upgradeBy(b), ClusterBusyError);
    assert.equal((await run).ok, true);
  });
});

test('GIVEN a killed run WHEN abandoned from another machine after its lease expired THEN the record says abandoned by whom, the lease is released, and the killed machine closes its journal from it', async () => {
  await withWorld({ workers: 1 }, async (w) => {
    const a = operator(w, 'alice', { host: 'laptop', leaseSeconds: 20 });
    w.lab.addFault({ match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 300 } });
    const run = upgradeBy(a);
    await waitFor(inFlight(a, '1/k3s-worker-1/install'), 'the install');
    a.mortal.kill();
    await unlessKilled(a, run);
    const b = operator(w, 'bob', { host: 'desk' });
    await assert.rejects(abandonBy(b), ClusterBusyError);
    w.clock.offset = 21_000;
    const r = await abandonBy(b);
    assert.ok(r !== 'nothing');
    assert.match(r.released ?? '', /^alice@laptop pid \d+ run \S+ upgrade$/);
    const rec = labRecord(w)!;
    assert.deepEqual([rec.state, rec.closedBy], ['abandoned', 'bob@desk']);
    assert.equal(labLease(w)!.spec.holderIdentity, '');
    const a2 = operator(w, 'alice', { host: 'laptop', stateDir: a.stateDir });
    assert.equal(await resumeBy(a2), 'nothing');
    assert.equal(summarize(a2.journal.read())?.status, 'abandoned');
    // The node it cordoned still carries the cordon annotation that names it.
    assert.deepEqual(cordoned(w), ['k3s-worker-1']);
    assert.ok(w.lab.state.clusters['lab']!.nodes['k3s-worker-1']!.annotations['pve-k3s.io/cordoned-for-upgrade']);
  });
});
