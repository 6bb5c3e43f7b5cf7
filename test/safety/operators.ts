/**
 * In-process operators on one lab: each with its own identity (user@host, pid), state
 * directory (journal) and clock, sharing the lab's cluster the way two machines share a real
 * one. An operator can be killed like `kill -9`: from its n-th remote call on, nothing it sends
 * gets an answer, so it never writes its journal, its run record or its lease again, and
 * whatever it had in flight stays as a dead process leaves it.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initLab, openLab, renderLabInventory, type Lab, type LabInitOptions } from '../../src/lab/index.js';
import { parseInventory } from '../../src/inventory/parse.js';
import type { Inventory } from '../../src/inventory/types.js';
import type { RunOptions, RunResult, Shell } from '../../src/shell/shell.js';
import type { ScriptSession, SessionRunOptions } from '../../src/shell/session.js';
import type { ClusterConnection } from '../../src/operation/connect.js';
import type { GuardEnv } from '../../src/operation/guard.js';
import type { Identity } from '../../src/operation/lease.js';
import { Journal, journalPath } from '../../src/operation/journal.js';
import { abandonRun, decide, readClusterState, reconcileJournal } from '../../src/operation/guard.js';
import { decodeRecord, RECORD_ANNOTATION, type RunRecord } from '../../src/operation/run-record.js';
import { clusterLeases } from '../../src/lab/kube-leases.js';
import { planCluster } from '../../src/upgrade/plan/plan-cluster.js';
import { closeResumed, executeUpgrade, planResume, runToContinue, type ExecuteResult } from '../../src/upgrade/run/upgrade-run.js';
import { planSteps } from '../../src/domain/plan.js';
import type { Emit } from '../../src/domain/events.js';

export const TINY = { installMs: 2, restartMs: 6, drainPerPodMs: 0, pctExecMs: 0, sshRttMs: 0 };

/** Wall time plus an offset the test moves forward (a lease expiring without waiting for it). */
export class Clock {
  offset = 0;
  readonly now = (): number => Date.now() + this.offset;
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** Kills an operator at its n-th remote call. */
export class Mortal {
  dead = false;
  calls = 0;
  /** The call that kills it (1-based); undefined: it lives. */
  killAt: number | undefined;
  /** The killing call reaches the host (then its answer is lost), or not. */
  sendsLast = false;
  /** Told of every call before it is made (to start a second operator at a given moment). */
  onCall: ((n: number) => void) | undefined;
  readonly died: Promise<void>;
  #died!: () => void;
  /** Calls sent and not yet answered: a killed operator's last call goes on running on the host. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor() {
    this.died = new Promise((r) => (this.#died = r));
  }

  /** Resolves once every call this operator sent has ended on its host (answered or not). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Runs a call that was sent, tracked until it ends on the host. */
  private sent<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    const done = () => this.#inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.#died();
  }

  /** Before a call: false when the operator is (now) dead and the call must not be sent. */
  private enter(): boolean {
    if (this.dead) return false;
    this.calls++;
    this.onCall?.(this.calls);
    if (this.killAt !== undefined && this.calls >= this.killAt) {
      this.kill();
      return this.sendsLast;
    }
    return true;
  }

  shell(inner: Shell): Shell {
    const run = async (argv: readonly string[], opts?: RunOptions): Promise<RunResult> => {
      if (!this.enter()) return never();
      const r = await this.sent(inner.run(argv, opts));
      if (this.dead) return never();
      return r;
    };
    const wrapped: Shell = { host: inner.host, run, close: () => inner.close() };
    if (inner.openSession) wrapped.openSession = (argv) => this.session(inner.openSession!(argv));
    return wrapped;
  }

  private session(inner: ScriptSession): ScriptSession {
    const enter = () => this.enter();
    const dead = () => this.dead;
    const sent = <T>(p: Promise<T>) => this.sent(p);
    return {
      get alive() {
        return inner.alive;
      },
      get busy() {
        return inner.busy;
      },
      async run(script: string, opts?: SessionRunOptions): Promise<RunResult> {
        if (!enter()) return never();
        const r = await sent(inner.run(script, opts));
        if (dead()) return never();
        return r;
      },
      close: () => (dead() ? Promise.resolve() : inner.close()),
    };
  }
}

export interface World {
  lab: Lab;
  dir: string;
  inventory: Inventory;
  channelUrl: string;
  clock: Clock;
  /** pids of operator processes still running. */
  alive: Set<number>;
  close(): Promise<void>;
}

export interface WorldOptions extends Partial<Omit<LabInitOptions, 'dir' | 'timing'>> {
  readyTimeoutSeconds?: number;
  drainTimeoutSeconds?: number;
  timing?: Partial<LabInitOptions['timing']>;
}

export async function makeWorld(o: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-guard-'));
  const { readyTimeoutSeconds, drainTimeoutSeconds, timing, ...init } = o;
  await initLab({ dir: join(dir, 'lab'), ...init, timing: { ...TINY, ...timing } });
  const lab = await openLab(join(dir, 'lab'), { exclusive: true });
  const inv = parseInventory(renderLabInventory(lab), join(dir, 'pve-k3s.yaml'));
  const inventory: Inventory = {
    ...inv,
    upgrade: { ...inv.upgrade, readyTimeoutSeconds: readyTimeoutSeconds ?? 5 },
    drain: { ...inv.drain, timeoutSeconds: drainTimeoutSeconds ?? 5 },
  };
  const server = await lab.startChannelServer();
  return {
    lab,
    dir,
    inventory,
    channelUrl: server.url,
    clock: new Clock(),
    alive: new Set(),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let nextPid = 41000;

export interface Operator {
  name: string;
  identity: Identity;
  stateDir: string;
  mortal: Mortal;
  conn: ClusterConnection;
  journal: Journal;
  env(extra?: Partial<GuardEnv>): GuardEnv;
  /** Notices the guard gave (lease taken over, release failed...). */
  notices: string[];
  /** Its process ends (a command finished): its pid is no longer alive. */
  exit(): void;
}

/**
 * An operator: `host` is its machine (same host and state dir = the same machine, restarted:
 * a new pid), `leaseSeconds` the lease it takes.
 */
export function operator(
  w: World,
  name: string,
  o: { host?: string; stateDir?: string; leaseSeconds?: number; renewMs?: number; deadWritesNothing?: boolean } = {},
): Operator {
  const pid = nextPid++;
  w.alive.add(pid);
  const mortal = new Mortal();
  void mortal.died.then(() => w.alive.delete(pid));
  const stateDir = o.stateDir ?? join(w.dir, `state-${name}`);
  mkdirSync(stateDir, { recursive: true });
  // deadWritesNothing: the process works through a link to its state directory that is turned
  // away when it is killed, so code of the dead process still running in this test process (a
  // timer that fires, a timeout on the lab's leaping clock) writes nothing a real kill -9 would not.
  let workDir = stateDir;
  if (o.deadWritesNothing) {
    workDir = join(w.dir, `live-${name}-${pid}`);
    symlinkSync(stateDir, workDir);
    void mortal.died.then(() => {
      const gone = join(w.dir, `gone-${name}-${pid}`);
      mkdirSync(gone, { recursive: true });
      rmSync(workDir);
      symlinkSync(gone, workDir);
    });
  }
  const shells = new Map<string, Shell>(w.inventory.hosts.map((h) => [h.name, mortal.shell(w.lab.shell(h.name))]));
  const identity: Identity = { user: name, host: o.host ?? `machine-${name}`, pid };
  const notices: string[] = [];
  const conn: ClusterConnection = { inventory: w.inventory, shells, channelUrl: w.channelUrl, clock: w.lab.clock, close: async () => {} };
  return {
    name,
    identity,
    stateDir,
    mortal,
    conn,
    journal: new Journal(journalPath(stateDir, w.inventory.cluster)),
    notices,
    exit: () => w.alive.delete(pid),
    env: (extra = {}) => ({
      inventory: conn.inventory,
      shells,
      stateDir: workDir,
      identity,
      now: w.clock.now,
      leaseSeconds: o.leaseSeconds ?? 30,
      renewMs: o.renewMs ?? 1000,
      isAlive: (p) => w.alive.has(p),
      log: (l) => notices.push(l),
      ...extra,
    }),
  };
}

/** Runs `p` unless the operator dies first: then 'killed' (p is left pending, as a dead process leaves it). */
export function unlessKilled<T>(op: Operator, p: Promise<T>): Promise<T | 'killed'> {
  p.catch(() => {});
  return Promise.race([p, op.mortal.died.then(() => 'killed' as const)]);
}

export interface UpgradeCall {
  emit?: Emit;
  forceTakeover?: boolean;
}

/** `pve-k3s upgrade --yes` by this operator, in-process. */
export async function upgradeBy(op: Operator, o: UpgradeCall = {}): Promise<ExecuteResult> {
  const { plan } = await planCluster(op.conn, {});
  return executeUpgrade(op.conn, plan, runOptions(op, o));
}

function runOptions(op: Operator, o: UpgradeCall) {
  return {
    env: {},
    emit: o.emit ?? (() => {}),
    order: 'auto',
    allowSkew: false,
    snapshot: { enabled: false, retention: 2 },
    poll: { minMs: 1, maxMs: 10 },
    ...(o.forceTakeover ? { forceTakeover: true } : {}),
    guard: op.env(),
  };
}

/** `pve-k3s resume --yes` by this operator, in-process: 'nothing' when there is no run to continue. */
export async function resumeBy(op: Operator, o: UpgradeCall = {}): Promise<ExecuteResult | 'nothing' | 'closed'> {
  const env = op.env();
  const st = await readClusterState(env);
  reconcileJournal(op.journal, st.record);
  const pick = runToContinue(op.journal, st);
  if (!pick) return 'nothing';
  decide(st, env, { me: op.identity, operation: 'upgrade', resumes: pick.run, ...(o.forceTakeover ? { forceTakeover: true } : {}) });
  const plan = await planResume(op.conn, pick.run);
  if (planSteps(plan).length === 0) {
    await closeResumed(env, pick.run, o.forceTakeover);
    return 'closed';
  }
  return executeUpgrade(op.conn, plan, {
    ...runOptions(op, o),
    order: pick.run.order,
    allowSkew: pick.run.allowSkew,
    snapshot: { enabled: pick.run.snapshot, retention: 2 },
    resumes: pick.run,
  });
}

/** `pve-k3s abandon` by this operator, in-process. */
export async function abandonBy(op: Operator, o: { forceTakeover?: boolean } = {}) {
  const env = op.env();
  const st = await readClusterState(env);
  reconcileJournal(op.journal, st.record);
  const pick = runToContinue(op.journal, st);
  if (!pick) return 'nothing' as const;
  return abandonRun(env, pick.run, o);
}

/** The cluster's lease as the lab holds it. */
export function labLease(w: World) {
  return clusterLeases(w.lab.state.clusters[w.lab.state.cluster])[`kube-system/pve-k3s-${w.inventory.cluster}`];
}

export function labRecord(w: World): RunRecord | undefined {
  return decodeRecord(labLease(w)?.annotations?.[RECORD_ANNOTATION]);
}
