/** Canary confirmation and soak (issue 16, item 4): planned steps, the health judgement, and runs on the lab. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planUpgrade, DEFAULT_POLICY } from '../../../src/upgrade/plan/planner.js';
import { parseVersion } from '../../../src/domain/version.js';
import { planSteps } from '../../../src/domain/plan.js';
import { judgeHealth, podRestarts, type HealthLook } from '../../../src/upgrade/policy/health-watch.js';
import { facts } from '../../helpers/facts.js';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';

cliInProcess();

const cluster = () =>
  facts([
    { name: 'ctrl', role: 'server', version: 'v1.33.3+k3s1' },
    { name: 'w1', version: 'v1.33.3+k3s1' },
    { name: 'w2', version: 'v1.33.3+k3s1' },
    { name: 'w3', version: 'v1.33.3+k3s1' },
  ]);
const target = { version: parseVersion('v1.33.5+k3s1')!, source: 'pinned' };
const ids = (p: ReturnType<typeof planUpgrade>) => planSteps(p).map((s) => s.id);

test('GIVEN --soak WHEN planned THEN a soak step follows every node but the last, and the plan records it', () => {
  const plan = planUpgrade(cluster(), target, { ...DEFAULT_POLICY, soakSeconds: 300 });
  const soaks = planSteps(plan).filter((s) => s.kind === 'soak');
  assert.deepEqual(
    soaks.map((s) => s.id),
    ['1/w1/soak', '1/w2/soak', '1/w3/soak'],
  );
  assert.deepEqual(soaks[0]!.soak, { seconds: 300, confirm: false, reason: 'between-nodes' });
  assert.equal(ids(plan).at(-1), '1/ctrl/wait-ready');
  assert.equal(ids(plan)[ids(plan).indexOf('1/w1/uncordon') + 1], '1/w1/soak');
  assert.deepEqual(plan.policy, { soakSeconds: 300 });
});

test('GIVEN a canary without --canary-soak WHEN planned THEN it is followed by a confirmation; with --canary-soak by a soak of that length', () => {
  const ask = planUpgrade(cluster(), target, { ...DEFAULT_POLICY, canary: 'w3' });
  assert.deepEqual(ids(ask).slice(0, 5), ['1/w3/drain', '1/w3/install', '1/w3/wait-ready', '1/w3/uncordon', '1/w3/soak']);
  assert.deepEqual(planSteps(ask)[4]!.soak, { seconds: 0, confirm: true, reason: 'canary' });
  assert.equal(planSteps(ask).filter((s) => s.kind === 'soak').length, 1, 'no soak between the others without --soak');
  const soaked = planUpgrade(cluster(), target, { ...DEFAULT_POLICY, canary: 'w3', canarySoakSeconds: 600, soakSeconds: 60 });
  assert.deepEqual(planSteps(soaked)[4]!.soak, { seconds: 600, confirm: false, reason: 'canary' });
  assert.deepEqual(soaked.policy, { canary: { node: 'w3', soakSeconds: 600 }, soakSeconds: 60 });
  assert.deepEqual(
    planSteps(soaked)
      .filter((s) => s.kind === 'soak')
      .map((s) => [s.id, s.soak?.seconds]),
    [
      ['1/w3/soak', 600],
      ['1/w1/soak', 60],
      ['1/w2/soak', 60],
    ],
  );
});

test('GIVEN the canary is the only node to change WHEN planned THEN nothing waits after it', () => {
  const f = cluster();
  for (const n of f.nodes) if (n.name !== 'w2') n.installed = parseVersion('v1.33.5+k3s1')!;
  for (const n of f.nodes) if (n.name !== 'w2' && n.kube) n.kube.kubeletVersion = parseVersion('v1.33.5+k3s1')!;
  const plan = planUpgrade(f, target, { ...DEFAULT_POLICY, canary: 'w2', soakSeconds: 60 });
  assert.ok(!planSteps(plan).some((s) => s.kind === 'soak'));
});

const look = (o: Partial<HealthLook> = {}): HealthLook => ({ ready: true, why: '', restarts: new Map(), crashLooping: [], ...o });

test('GIVEN looks at a node WHEN judged against the first THEN NotReady, a restart or a crash loop is bad; a new pod is not', () => {
  const first = look({ restarts: new Map([['default/web-1', 2]]) });
  assert.equal(judgeHealth('w1', first, look({ restarts: new Map([['default/web-1', 2]]) })), undefined);
  assert.equal(judgeHealth('w1', first, look({ restarts: new Map([['default/new-1', 4]]) })), undefined);
  assert.equal(
    judgeHealth('w1', first, look({ restarts: new Map([['default/web-1', 3]]) })),
    'pod default/web-1 on w1 restarted (restartCount 2 -> 3)',
  );
  assert.equal(judgeHealth('w1', first, look({ ready: false, why: 'KubeletNotReady: PLEG' })), 'w1 is not Ready (KubeletNotReady: PLEG)');
  assert.equal(
    judgeHealth('w1', first, look({ crashLooping: ['kube-system/cni-x'] })),
    'pod kube-system/cni-x on w1 is in CrashLoopBackOff',
  );
});

test('GIVEN kubectl get pods -o json WHEN read THEN restarts are summed per pod over init and app containers, crash loops found', () => {
  const r = podRestarts({
    items: [
      {
        metadata: { name: 'a', namespace: 'ns' },
        status: {
          initContainerStatuses: [{ restartCount: 1 }],
          containerStatuses: [{ restartCount: 2 }, { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
        },
      },
      { metadata: { name: 'b' }, status: {} },
    ],
  });
  assert.deepEqual(
    [...r.restarts],
    [
      ['ns/a', 6],
      ['default/b', 0],
    ],
  );
  assert.deepEqual(r.crashLooping, ['ns/a']);
});

async function withLab(fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture({});
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}
const journal = (f: LabFixture) =>
  readFileSync(join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step?: string; note?: string; message?: string; status?: string });

test('GIVEN a canary and no terminal WHEN upgrade runs without --yes or --canary-soak THEN it is refused before anything changes', async () => {
  await withLab(async (f) => {
    const r = await f.cli(['upgrade', '--canary', 'k3s-worker-1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: the canary k3s-worker-1 needs a confirmation on a terminal before the rest go, and this is not one$/m);
    assert.match(r.stderr, /--canary-soak 10m \(or upgrade\.canarySoak\), or pass --yes/);
    assert.ok(f.lab.summary().every((n) => !n.role || n.kubelet === 'v1.33.3+k3s1'));
  });
});

test('GIVEN --canary with --canary-soak and --soak WHEN upgrade runs THEN each soak is a journaled step after its node, and the run completes', async () => {
  await withLab(async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--canary', 'k3s-worker-2', '--canary-soak', '2m', '--soak', '30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ {2}1\. k3s-worker-2 \(agent, CT 102 on pve2\) v1\.33\.3\+k3s1 -> v1\.33\.5\+k3s1: drain, install v1\.33\.5\+k3s1, wait Ready at v1\.33\.5\+k3s1, uncordon, soak 2m$/m,
    );
    assert.match(r.stdout, /^Canary: k3s-worker-2 goes first, alone; the rest follow once it has stayed healthy for 2m$/m);
    assert.match(r.stdout, /^Soak: each node must stay healthy for 30s before the next starts$/m);
    const done = journal(f)
      .filter((x) => x.type === 'step-done')
      .map((x) => x.step);
    assert.deepEqual(
      done.filter((s) => s?.endsWith('/soak')),
      ['1/k3s-worker-2/soak', '1/k3s-worker-1/soak', '1/k3s-worker-3/soak'],
    );
    assert.equal(done[done.indexOf('1/k3s-worker-2/uncordon') + 1], '1/k3s-worker-2/soak');
    assert.equal(done[done.indexOf('1/k3s-worker-2/soak') + 1], '1/k3s-worker-1/drain');
    assert.ok(f.lab.summary().every((n) => !n.role || n.kubelet === 'v1.33.5+k3s1'));
  });
});

test('GIVEN --canary and --yes WHEN upgrade runs THEN the confirmation is answered by --yes and journaled so', async () => {
  await withLab(async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--canary', 'k3s-worker-1']);
    assert.equal(r.code, 0, r.stderr);
    const soak = journal(f).find((x) => x.type === 'step-done' && x.step === '1/k3s-worker-1/soak');
    assert.equal(soak?.note, 'confirmed by --yes');
  });
});

test('GIVEN a node that falls NotReady a minute after its upgrade WHEN it soaks THEN the run stops there, recorded, and resume checks it first', async () => {
  await withLab(async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.nodes['k3s-worker-1']!.failsAfter = { version: 'v1.33.5+k3s1', ms: 60_000 };
    });
    const r = await f.cli(['upgrade', '--yes', '--soak', '5m']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^error: k3s-worker-1 went bad during its soak after 1m\d*s?: k3s-worker-1 is not Ready \(KubeletNotReady: container runtime is down/m,
    );
    assert.match(r.stderr, /^The upgrade stopped at step 1\/k3s-worker-1\/soak\.$/m);
    assert.match(r.stderr, /^Mid-upgrade \(installed or restarted, health not confirmed\): k3s-worker-1\.$/m);
    const kub = Object.fromEntries(f.lab.summary().map((n) => [n.name, n.kubelet]));
    assert.equal(kub['k3s-worker-2'], 'v1.33.3+k3s1', 'no further node started');
    const failed = journal(f).find((x) => x.type === 'step-failed');
    assert.equal(failed?.step, '1/k3s-worker-1/soak');
    const status = await f.cli(['status']);
    assert.match(status.stdout + status.stderr, /1\/k3s-worker-1\/soak/);
    // The node is repaired; resume checks it (and soaks it) before going on.
    f.lab.update((s) => {
      delete s.clusters['lab']!.nodes['k3s-worker-1']!.failsAfter;
    });
    const again = await f.cli(['resume', '--yes', '--soak', '30s']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^ {2}1\. k3s-worker-1 \(agent, CT 101 on pve1\): wait Ready at v1\.33\.5\+k3s1, soak 30s$/m);
    assert.ok(f.lab.summary().every((n) => !n.role || n.kubelet === 'v1.33.5+k3s1'));
  });
});

test('GIVEN upgrade.canarySoak and upgrade.soak in the inventory WHEN plan runs THEN they are accepted and planned (flags would override them)', async () => {
  await withLab(async (f) => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f.inventory, `${readFileSync(f.inventory, 'utf8')}upgrade:\n  canary: k3s-worker-3\n  canarySoak: 1m\n  soak: 20s\n`);
    const r = await f.cli(['plan']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}1\. k3s-worker-3 \(agent, CT 103 on pve2\) .*: drain, .*, uncordon, soak 1m$/m);
    assert.match(r.stdout, /^ {2}2\. k3s-worker-1 \(agent, CT 101 on pve1\) .*, uncordon, soak 20s$/m);
    const flag = await f.cli(['plan', '--soak', '45s', '-o', 'json']);
    assert.equal(JSON.parse(flag.stdout).policy.soakSeconds, 45);
  });
});
