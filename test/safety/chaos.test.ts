// The chaos test: seeded random schedules on one lab, each mixing a fault of the lab's catalogue,
// a kill -9 of operator A at a random remote call, and a concurrent command from operator B
// (another machine: its own state directory and identity), then a recovery (resume from either
// operator, or abandon), then the invariants. Everything runs in-process through the library's and
// the commands' own entry points (executeUpgrade, uninstallOn, restoreOn, takeBackup, applyGuarded,
// abandonRun) on one lab and one clock: a CLI process costs ~0.5 s of CPU, and 100 schedules of 4-5
// of them would not fit in CI's minutes. CHAOS_SEED=<n> replays one schedule; CHAOS_SCHEDULES=<n>
// runs more (or fewer) from CHAOS_FIRST_SEED (default 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { INSTALL_SCRIPT_PATH } from '../../src/k3s/install-config.js';
import { labBreak, type Fault } from '../../src/lab/index.js';
import { envPath } from '../../src/lab/k3s-files.js';
import { ClusterBusyError, readClusterState, reconcileJournal } from '../../src/operation/guard.js';
import {
  abandonBy,
  labLease,
  labRecord,
  makeWorld,
  operator,
  resumeBy,
  unlessKilled,
  upgradeBy,
  type Operator,
  type World,
} from './operators.js';
import { uninstallOn } from '../../src/cli/commands/uninstall.js';
import { restoreOn, takeBackup } from '../../src/cli/commands/backup.js';
import { applyGuarded } from '../../src/cli/commands/doctor.js';

const KUBECTL = '/usr/local/bin/kubectl';
const LEASE_SECONDS = 30;

/** mulberry32: a small seeded PRNG (the same seed gives the same schedule). */
function rng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)]!, chance: (p) => next() < p };
}

type Command = 'upgrade' | 'resume' | 'restore' | 'uninstall' | 'backup --offline' | 'doctor --fix';
const COMMANDS: readonly Command[] = ['upgrade', 'resume', 'restore', 'uninstall', 'backup --offline', 'doctor --fix'];
type Recovery = 'resume A' | 'resume B' | 'abandon A' | 'abandon B';
const RECOVERIES: readonly Recovery[] = ['resume A', 'resume B', 'abandon A', 'abandon B'];

/** The lab's fault catalogue, as it applies to this world (one server 100, workers 101 and 102). */
function faultCatalogue(w: World): Array<{ name: string; faults: Fault[] }> {
  const hostOf = (vmid: number) => w.inventory.nodes.find((n) => n.vmid === vmid)!.host;
  return [
    { name: 'none', faults: [] },
    {
      name: 'install script fails on worker-1',
      faults: [
        { match: { vmid: 101, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { exitCode: 1, stderr: '[ERROR]  Download failed\n' } },
      ],
    },
    {
      name: 'drain of worker-2 fails',
      faults: [
        {
          match: { vmid: 100, argvPrefix: [KUBECTL, 'drain', 'k3s-worker-2'], level: 'container' },
          effect: { exitCode: 1, stderr: "error: cannot evict pod as it would violate the pod's disruption budget.\n" },
        },
      ],
    },
    {
      name: 'connection drops during worker-2 install',
      faults: [
        {
          match: { host: hostOf(102), argvPrefix: ['pct', 'exec', '102'], contains: 'INSTALL_K3S_VERSION', level: 'host' },
          effect: { dropConnection: true },
        },
      ],
    },
    {
      name: 'lease writes slow',
      faults: [{ match: { vmid: 100, argvPrefix: [KUBECTL, 'replace'], level: 'container' }, effect: { delayMs: 5 }, times: 3 }],
    },
    {
      name: 'container 102 not running for a moment',
      faults: [
        {
          match: { host: hostOf(102), argvPrefix: ['pct', 'exec', '102', '--', 'sh', '-s'], level: 'host' },
          effect: { exitCode: 255, stderr: "container '102' not running!\n" },
        },
      ],
    },
  ];
}

interface Baseline {
  versions: Map<string, string | undefined>;
  tokens: Map<string, string | undefined>;
}

function container(w: World, name: string) {
  for (const h of w.lab.state.hosts) for (const c of h.containers) if (c.hostname === name) return c;
  throw new Error(`no container ${name}`);
}

function agentToken(w: World, name: string): string | undefined {
  const f = container(w, name).fs[envPath('k3s-agent')] as { content?: string } | undefined;
  return /K3S_TOKEN=['"]?([^'"\n]+)/.exec(f?.content ?? '')?.[1];
}

function baseline(w: World): Baseline {
  const versions = new Map<string, string | undefined>();
  const tokens = new Map<string, string | undefined>();
  for (const n of w.inventory.nodes) {
    versions.set(n.name, container(w, n.name).k3s.binaryVersion);
    if (n.role === 'agent') tokens.set(n.name, agentToken(w, n.name));
  }
  return { versions, tokens };
}

/** Output of the commands (they print like the CLI) is kept out of the test's own stdout. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
    process.stderr.write = err;
  }
}

/** Operator B's command, in-process, through the command's own entry point. */
async function commandBy(b: Operator, cmd: Command, backupDir: string | undefined): Promise<unknown> {
  const env = b.env();
  switch (cmd) {
    case 'upgrade':
      return upgradeBy(b);
    case 'resume':
      return resumeBy(b);
    case 'restore':
      return restoreOn({ conn: b.conn, guard: env }, backupDir!, { yes: true });
    case 'uninstall':
      return uninstallOn({ conn: b.conn, guard: env }, 'k3s-worker-2', { yes: true });
    case 'backup --offline':
      return takeBackup(
        b.conn,
        { root: join(b.stateDir, 'backups'), offline: true, latestSnapshot: false, copyTo: [], log: () => {} },
        env,
      );
    case 'doctor --fix': {
      const [{ gatherFacts }, { probeForDoctor, runChecks }, { upgradeState }] = await Promise.all([
        import('../../src/upgrade/facts/gather.js'),
        import('../../src/doctor/doctor.js'),
        import('../../src/status/upgrade-state.js'),
      ]);
      const inv = b.conn.inventory;
      const facts = await gatherFacts(inv, b.conn.shells);
      const hosts = await probeForDoctor({ inventory: inv, shells: b.conn.shells, facts });
      const results = runChecks({ inv, facts, hosts, upgrade: upgradeState(b.stateDir, inv.cluster, facts) });
      const fixes = results.flatMap((r) => ((r.status === 'fail' || r.status === 'warn') && r.autoFix ? [r.autoFix] : []));
      // With nothing to fix doctor takes nothing; a cordoned node (ours, mid-upgrade) is something it would uncordon.
      return applyGuarded(b.conn, fixes.length > 0 ? fixes : [{ kind: 'uncordon', node: 'k3s-worker-1' }], env);
    }
  }
}

interface Schedule {
  seed: number;
  fault: string;
  killAt: number;
  sendsLast: boolean;
  bAt: number;
  command: Command;
  recovery: Recovery;
  expire: boolean;
}

function describe(s: Schedule): string {
  return `CHAOS_SEED=${s.seed}: fault "${s.fault}", A killed at call ${s.killAt}${s.sendsLast ? ' (sent)' : ''}, B's ${s.command} at A's call ${s.bAt}, recovery ${s.recovery}${s.expire ? ' after the lease expired' : ''}`;
}

function scheduleFor(w: World, seed: number, calls: number): { s: Schedule; faults: Fault[] } {
  const r = rng(seed);
  const fault = r.pick(faultCatalogue(w));
  const s: Schedule = {
    seed,
    fault: fault.name,
    killAt: 1 + r.int(calls + 4), // beyond `calls`: A may finish
    sendsLast: r.chance(0.5),
    bAt: 1 + r.int(calls + 4),
    command: r.pick(COMMANDS),
    recovery: r.pick(RECOVERIES),
    expire: r.chance(0.7),
  };
  return { s, faults: fault.faults };
}

async function runSchedule(w: World, s: Schedule, faults: Fault[], target: string, backupDir: string, log: string[]): Promise<void> {
  const seed = s.seed;
  await w.lab.reset();
  w.lab.update((st) => labBreak(st, { node: 'k3s-ctrl-1', what: 'sqlite3' }));
  for (const f of faults) w.lab.addFault(f);
  const base = baseline(w);
  const tag = `s${seed}`;
  const a = operator(w, `alice-${tag}`, { leaseSeconds: LEASE_SECONDS, renewMs: 60_000, deadWritesNothing: true });
  const b = operator(w, `bob-${tag}`, { leaseSeconds: LEASE_SECONDS, renewMs: 60_000 });
  a.mortal.killAt = s.killAt;
  a.mortal.sendsLast = s.sendsLast;
  let bRun: Promise<unknown> | undefined;
  let aHeldWhenBStarted = false;
  const startB = () => {
    if (bRun) return;
    // A holds the lease, or its run record is open (A mid-run, or dead without having finished).
    const l = labLease(w);
    const rec = labRecord(w);
    aHeldWhenBStarted =
      (l?.spec.holderIdentity ?? '').startsWith(`${a.identity.user}@`) ||
      (rec?.state === 'running' && rec.by.startsWith(`${a.identity.user}@`));
    bRun = quietly(() => commandBy(b, s.command, backupDir)).then(
      (v) => (log.push(`B ${s.command}: ${JSON.stringify(summary(v))}`), v),
      (e: unknown) => (log.push(`B ${s.command}: ${(e as Error).name}: ${(e as Error).message}`), e),
    );
  };
  a.mortal.onCall = (n) => {
    if (n >= s.bAt && a.journal.lastRun() !== undefined) setImmediate(startB);
  };
  const aResult = await unlessKilled(a, upgradeBy(a));
  log.push(`A upgrade: ${aResult === 'killed' ? `killed at call ${a.mortal.calls}` : JSON.stringify(summary(aResult))}`);
  if (aResult !== 'killed') a.exit();
  startB();
  const bOutcome = await bRun!;
  b.exit();
  // B was refused unless A's run had ended (and released the lease) before B took it: B's
  // run starts after A's run ends, in the journals of both machines. B failing before it
  // started a run (e.g. the API down while A restarts the server) did not run beside A.
  const bStart = b.journal.read().find((x) => x.type === 'run-start');
  if (aHeldWhenBStarted && s.command !== 'resume' && !(bOutcome instanceof ClusterBusyError) && bStart !== undefined) {
    const aEnd = a.journal.read().find((x) => x.type === 'run-end');
    assert.ok(
      aResult !== 'killed' && aEnd !== undefined && bStart.t >= aEnd.t,
      `B's ${s.command} ran beside A's unfinished run: ${bOutcome instanceof Error ? bOutcome.message : JSON.stringify(summary(bOutcome))}`,
    );
  }
  // Recovery.
  if (s.expire) w.clock.offset += (LEASE_SECONDS + 5) * 1000;
  const who = s.recovery.endsWith('A') ? 'A' : 'B';
  const again = () =>
    who === 'A'
      ? operator(w, `alice-${tag}`, { stateDir: a.stateDir, host: a.identity.host, leaseSeconds: LEASE_SECONDS, renewMs: 60_000 })
      : operator(w, `bob-${tag}`, { stateDir: b.stateDir, host: b.identity.host, leaseSeconds: LEASE_SECONDS, renewMs: 60_000 });
  const recover = async (how: 'resume' | 'abandon', op: Operator): Promise<unknown> => {
    try {
      return await quietly<unknown>(() => (how === 'resume' ? resumeBy(op) : abandonBy(op)));
    } catch (e) {
      return e;
    } finally {
      op.exit();
    }
  };
  let how: 'resume' | 'abandon' = s.recovery.startsWith('resume') ? 'resume' : 'abandon';
  for (let attempt = 0; attempt < 4; attempt++) {
    const op = again();
    const res = await recover(how, op);
    log.push(`recovery ${how} by ${who}: ${res instanceof Error ? `${res.name}: ${res.message}` : JSON.stringify(summary(res))}`);
    if (res instanceof ClusterBusyError && !s.expire) {
      // B cannot take over a live lease of another machine: it waits for it to expire.
      w.clock.offset += (LEASE_SECONDS + 5) * 1000;
      continue;
    }
    const failed = res instanceof Error || (typeof res === 'object' && res !== null && 'ok' in res && !(res as { ok: boolean }).ok);
    if (!failed) break;
    // A resume that failed again (a fault that fires once more, a node still coming up): try once more, then abandon.
    if (attempt >= 1) how = 'abandon';
  }
  // A killed operator's last call, when sent, runs to its end on the host, as it would on a real
  // one: the invariants are those of the world once it has, and the next schedule's reset must not
  // race it (an install of this schedule writing its token into the next one's world).
  await a.mortal.settled();
  // The invariants.
  const inv = w.inventory;
  const env = operator(w, `checker-${tag}`).env();
  const st = await readClusterState(env);
  const record = st.record;
  for (const op of [a, b]) reconcileJournal(op.journal, record);
  const uninstalled = new Set<string>();
  for (const op of [a, b])
    for (const x of op.journal.read()) {
      const [, node, kind] = x.type === 'step-done' ? x.step.split('/') : [];
      if (node && kind === 'uninstall') uninstalled.add(node);
    }
  for (const n of inv.nodes) {
    const ct = container(w, n.name);
    const v = ct.k3s.binaryVersion;
    if (!uninstalled.has(n.name))
      assert.ok(v === base.versions.get(n.name) || v === target, `${n.name} runs ${v}, neither ${base.versions.get(n.name)} nor ${target}`);
    if (n.role === 'agent') {
      assert.equal(ct.k3s.services.k3s, undefined, `worker ${n.name} has a server unit`);
      if (!uninstalled.has(n.name)) assert.equal(agentToken(w, n.name), base.tokens.get(n.name), `the token of ${n.name} changed`);
    }
  }
  const cluster = w.lab.state.clusters[w.lab.state.cluster]!;
  const named = new Set<string>([...(record?.cordoned ?? [])]);
  for (const op of [a, b]) for (const x of op.journal.read()) if (x.type === 'run-end') for (const c of x.leftCordoned) named.add(c);
  for (const [name, node] of Object.entries(cluster.nodes))
    if (node.unschedulable)
      assert.ok(named.has(name), `${name} is cordoned and no record names it (record: ${JSON.stringify(record?.cordoned)})`);
  const lease = labLease(w);
  assert.ok(!lease?.spec.holderIdentity, `the lease is still held by ${lease?.spec.holderIdentity}`);
  if (record) {
    assert.notEqual(record.state, 'running', `the record of run ${record.run} still says running`);
    const owner = [a, b].find((op) => op.journal.read().some((x) => x.type === 'run-start' && x.run === record.run));
    // The one window with a record and no journal: the process died as its lease write (which
    // carries the new run's record) reached the cluster, before it journaled the run. Such a run
    // did nothing: no step done, none in flight, nothing cordoned; and it must have been closed.
    const diedTakingTheLease =
      !owner && record.completed === 0 && record.inFlight.length === 0 && record.cordoned.length === 0 && record.state !== 'running';
    assert.ok(owner || diedTakingTheLease, `no journal has run ${record.run} of the record: ${JSON.stringify(record)}`);
    if (owner) {
      // The last word on the run (a failed run that was then abandoned ends twice).
      const end = owner.journal
        .read()
        .filter((x) => x.type === 'run-end' && x.run === record.run)
        .pop();
      assert.ok(end && end.type === 'run-end', `the journal of ${owner.name} does not close run ${record.run}`);
      assert.equal(
        end.status,
        record.state,
        `journal and record disagree on run ${record.run}: ${JSON.stringify(owner.journal.read().map((x) => [x.type, 'step' in x ? x.step : '', 'status' in x ? x.status : '']))} record ${JSON.stringify(record)}`,
      );
    }
  }
  for (const op of [a, b]) {
    const last = op.journal.lastRun();
    if (last) assert.notEqual(last.status, undefined, `the journal of ${op.name} still has run ${last.run} open`);
  }
}

function summary(v: unknown): unknown {
  if (v && typeof v === 'object' && 'ok' in v) {
    const r = v as { ok: boolean; completed?: unknown[]; failed?: unknown; leaseLost?: string };
    return {
      ok: r.ok,
      completed: r.completed?.length,
      ...(r.failed ? { failed: r.failed } : {}),
      ...(r.leaseLost ? { leaseLost: r.leaseLost } : {}),
    };
  }
  return v;
}

test('chaos: seeded schedules of a fault, a kill -9 of operator A and a concurrent command of operator B, then recovery; the invariants hold after each', async (t) => {
  const only = process.env['CHAOS_SEED'];
  const first = Number(process.env['CHAOS_FIRST_SEED'] ?? 1);
  const count = Number(process.env['CHAOS_SCHEDULES'] ?? 100);
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: count }, (_, i) => first + i);
  const w = await makeWorld({ workers: 2, clock: 'virtual' });
  try {
    // Calibration: how many remote calls a whole upgrade makes here, and its target.
    w.lab.update((st) => labBreak(st, { node: 'k3s-ctrl-1', what: 'sqlite3' }));
    const backupDir = await quietly(async () => {
      const cal = operator(w, 'calibrate');
      const made = await takeBackup(cal.conn, {
        root: join(w.dir, 'backups'),
        offline: false,
        latestSnapshot: false,
        copyTo: [],
        log: () => {},
      });
      return made.dir;
    });
    const cal = operator(w, 'calibrate-run', { leaseSeconds: LEASE_SECONDS, renewMs: 60_000 });
    const r = await upgradeBy(cal);
    assert.equal(r.ok, true);
    cal.exit();
    const calls = cal.mortal.calls;
    const target = container(w, 'k3s-worker-1').k3s.binaryVersion!;
    const kinds = new Map<string, number>();
    const stats = { killed: 0, bRefused: 0, bRan: 0, resumed: 0, abandoned: 0 };
    for (const seed of seeds) {
      const { s, faults } = scheduleFor(w, seed, calls);
      const log: string[] = [];
      try {
        await runSchedule(w, s, faults, target, backupDir, log);
      } catch (e) {
        // The seed, to replay it: CHAOS_SEED=<seed> node --test dist/test/safety/chaos.test.js
        const story = `${describe(s)}\n${log.map((l) => `  ${l}`).join('\n')}`;
        process.stderr.write(`chaos schedule failed: ${story}\n`);
        throw Object.assign(e as Error, { message: `${describe(s)}: ${(e as Error).message}\n${story}` });
      }
      kinds.set(s.command, (kinds.get(s.command) ?? 0) + 1);
      if (log.some((l) => l.startsWith('A upgrade: killed'))) stats.killed++;
      if (log.some((l) => l.startsWith('B ') && l.includes('ClusterBusyError'))) stats.bRefused++;
      else stats.bRan++;
      if (log.some((l) => /^recovery resume .*"ok":true/.test(l))) stats.resumed++;
      if (log.some((l) => /^recovery abandon .*"released"/.test(l))) stats.abandoned++;
      if (only !== undefined) process.stderr.write(`${describe(s)}\n${log.map((l) => `  ${l}`).join('\n')}\n`);
    }
    t.diagnostic(`${seeds.length} schedules: ${JSON.stringify(stats)}; B's commands ${JSON.stringify(Object.fromEntries(kinds))}`);
    // Every kind of concurrent command was drawn.
    if (only === undefined && seeds.length >= 60) assert.deepEqual([...kinds.keys()].sort(), [...COMMANDS].sort());
  } finally {
    await w.close();
  }
});
