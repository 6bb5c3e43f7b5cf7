/**
 * The guarded operation: the one place that owns, for every command that changes a cluster,
 * the cluster lease (src/operation/lease.ts), the run record in it (run-record.ts), the local
 * journal (journal.ts), Ctrl-C, and the release on every path. In this order, so that no
 * failure strands a lease without a record:
 *
 *  1. the journal (and its directory) is checked writable: nothing is taken yet;
 *  2. the lease and the old annotation lock are read; another live holder, or a run that died
 *     without finishing (its record open), refuses the operation, naming it, its holder and its
 *     step in flight;
 *  3. the lease is taken (create, or replace of the object read: a 409 Conflict means someone
 *     else won, and we read again and refuse naming them) with a fresh run record;
 *  4. `prepare` runs (snapshot probes): a failure releases the lease and records no run;
 *  5. the journal records the run: a failure releases the lease;
 *  6. the body runs; every step boundary rewrites the record (and renews the lease), a timer
 *     renews it meanwhile, and a lease someone else took stops the run at once;
 *  7. the journal records how the run ended, the record says it too, and the lease is released
 *     in the same write (holder emptied under the resourceVersion read). When that write
 *     cannot be made, the lease expires by itself and the record tells resume and abandon
 *     what happened.
 * A killed process leaves the journal and the record with the step in flight and the lease
 * expiring; `resume` and `abandon` act on them (at once on the same machine, where the dead
 * process is known dead; elsewhere once the lease has expired, or with --force-takeover).
 */
import { createHash } from 'node:crypto';
import { InterruptedError, KubeError, PveK3sError } from '../domain/errors.js';
import type { Inventory } from '../inventory/types.js';
import { stateDir } from '../inventory/paths.js';
import { Kube } from '../kube/kube.js';
import { Pct } from '../proxmox/pct.js';
import type { Shell } from '../shell/shell.js';
import { Journal, journalPath, newRunId, resumable, type JournalRecord, type RunEndStatus, type RunSummary } from './journal.js';
import {
  ClusterLease,
  DEFAULT_LEASE_SECONDS,
  formatHolder,
  LeaseError,
  leaseSecondsFrom,
  localIdentity,
  microTime,
  newLease,
  nextLease,
  viewLease,
  type Holder,
  type Identity,
  type LeaseObject,
  type LeaseView,
  type LegacyLock,
} from './lease.js';
import {
  clock,
  decodeRecord,
  encodeRecord,
  inProgressText,
  RECORD_ANNOTATION,
  RECORD_VERSION,
  recordSummary,
  stepText,
  type RunRecord,
} from './run-record.js';

/** What the guard needs to know of where it runs. */
export interface GuardEnv {
  inventory: Inventory;
  shells: ReadonlyMap<string, Shell>;
  /** pve-k3s's state directory (the journal is `<stateDir>/journal/<cluster>.jsonl`). */
  stateDir: string;
  /** @default this user, host and process */
  identity?: Identity;
  /** @default Date.now */
  now?: () => number;
  /** @default DEFAULT_LEASE_SECONDS */
  leaseSeconds?: number;
  /** How often the lease is renewed between step boundaries. @default a quarter of its duration */
  renewMs?: number;
  /** Whether a process of this host is alive. @default signal 0 */
  isAlive?: (pid: number) => boolean;
  /** The server whose kubectl holds the lease. @default the inventory's controller */
  via?: string;
  /** Notices: a lease broken or taken over, a release that failed. */
  log?: (line: string) => void;
  /**
   * Handle SIGINT and SIGTERM while the operation runs: the first asks it to stop at its next
   * safe point (onStop says so), the second aborts the step in flight. @default not handled
   */
  signals?: { onStop?: (signal: NodeJS.Signals) => void };
}

export interface UpgradeFacts {
  target: string;
  source: string;
  order: string;
  allowSkew: boolean;
  snapshot: boolean;
}

export interface RunOutcome {
  status: RunEndStatus;
  leftCordoned: string[];
  midUpgrade: string[];
  message?: string;
}

export interface OperationSpec<T> {
  /** `upgrade`, `restore`, `uninstall`, `backup`, `doctor --fix`, `install`, `join`, `lab reset`. */
  operation: string;
  /** What it was given (shown in the record): a node name, a backup's directory name. */
  args?: string[];
  /** The plan's step ids, in order (for `step 6/14`). */
  stepIds?: string[];
  /** How many steps, when there are no ids ahead. */
  steps?: number;
  planDigest?: string;
  upgrade?: UpgradeFacts;
  /** The run this one continues (resume): taken over when its holder is gone, closed as resumed. */
  resumes?: RunSummary;
  /** Break a live lease (resume/abandon --force-takeover). */
  forceTakeover?: boolean;
  /**
   * install: before the first server runs there is no API to hold a lease in; the run goes on
   * without one until the body calls clusterUp().
   */
  clusterMayNotExist?: boolean;
  /** Nodes cordoned by an earlier run, which this one finishes. */
  cordoned?: string[];
  /** Runs holding the lease before the journal records the run: its failure releases the lease and records nothing. */
  prepare?: () => Promise<void>;
  /** How the run ended, from the body's value. @default done */
  outcome?: (value: T) => RunOutcome;
  /** The body's value once the run is closed, told whether the lease was lost to someone else meanwhile. */
  closed?: (value: T, lost: LeaseLostError | undefined) => T;
}

/** What the body of a guarded operation gets. */
export interface Guarded {
  readonly run: string;
  /** Aborted when the lease is lost to someone else, or on a second Ctrl-C. */
  readonly signal: AbortSignal;
  /** A first Ctrl-C: stop at the next safe point. */
  stopRequested(): boolean;
  /** For the upgrade runner: journal records that also keep the run record up to date. */
  readonly journal: Pick<Journal, 'append'>;
  /** Awaited before each step starts: the record says it is in flight; throws when the lease is lost. */
  beforeStep(step: { id: string; node: string }): Promise<void>;
  /** One journaled step around fn (commands without a runner); stops first when asked to. */
  step<R>(id: string, node: string, fn: () => Promise<R>): Promise<R>;
  note(message: string, node?: string): void;
  /** restore, lab reset: fn replaces the datastore, and the Lease with it; the lease is taken again after it. */
  replacingDatastore<R>(fn: () => Promise<R>): Promise<R>;
  /** install: the first server now runs: take the lease (refused like any acquisition). */
  clusterUp(): Promise<void>;
}

/** Another operation holds the cluster, or one died without finishing. */
export class ClusterBusyError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly holder: string | undefined;
  readonly record: RunRecord | undefined;
  constructor(message: string, opts: { hint?: string; detail?: string; holder?: string; record?: RunRecord }) {
    super(message, opts);
    this.holder = opts.holder;
    this.record = opts.record;
  }
}

/** The lease was taken by someone else while we held it: the run stopped. */
export class LeaseLostError extends PveK3sError {
  readonly exitCode = 1 as const;
}

/** The cluster's coordination state as one read sees it. */
export interface ClusterState {
  lease: ClusterLease;
  view: LeaseView;
  record: RunRecord | undefined;
  legacy: LegacyLock | undefined;
  now: number;
}

export function kubeFor(env: GuardEnv, pctFor?: (host: string) => Pct): Kube {
  const inv = env.inventory;
  const name = env.via ?? inv.controller;
  const n = inv.nodes.find((x) => x.name === name);
  if (!n) throw new LeaseError(`${name} is not a node of ${inv.file}`);
  const shell = env.shells.get(n.host);
  if (!shell) throw new LeaseError(`no connection to Proxmox host ${n.host} (of ${n.name})`);
  return new Kube(pctFor ? pctFor(n.host) : new Pct(shell), n.vmid, n.name);
}

/** The guard's environment for a conn, from the process environment (state dir, lease duration). */
export function guardEnvFor(
  conn: { inventory: Inventory; shells: ReadonlyMap<string, Shell> },
  processEnv: NodeJS.ProcessEnv,
  extra: Partial<GuardEnv> = {},
): GuardEnv {
  return {
    inventory: conn.inventory,
    shells: conn.shells,
    stateDir: stateDir(processEnv),
    leaseSeconds: leaseSecondsFrom(processEnv),
    ...extra,
  };
}

/** Reads the lease, its record and the old annotation lock (one round trip). Throws LeaseError when the API does not answer. */
export async function readClusterState(env: GuardEnv, kube = kubeFor(env), signal?: AbortSignal): Promise<ClusterState> {
  const lease = new ClusterLease(kube, env.inventory.cluster);
  const { lease: obj, legacy } = await lease.readWithLegacy(signal);
  const now = (env.now ?? Date.now)();
  return { lease, view: viewLease(obj, now), record: decodeRecord(obj?.metadata.annotations?.[RECORD_ANNOTATION]), legacy, now };
}

function defaultAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const hms = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

/**
 * Is the holder of the lease known dead? Only for a run this machine's journal recorded (so
 * the holder really is a process of this machine, not of another one with the same host
 * name) whose process no longer runs.
 */
function holderDead(env: GuardEnv, me: Identity, h: Holder | undefined): boolean {
  if (!h || h.host !== me.host) return false;
  const local = new Journal(journalPath(env.stateDir, env.inventory.cluster)).read();
  if (!local.some((r) => r.type === 'run-start' && r.run === h.run)) return false;
  return !(env.isAlive ?? defaultAlive)(h.pid);
}

/** The record describes the run that holds (or last held) the lease. */
function recordOf(st: ClusterState): RunRecord | undefined {
  const h = st.view.holder;
  if (!st.record) return undefined;
  if (h && st.record.run !== h.run) return undefined;
  return st.record;
}

/** The run the record shows unfinished whose holder is gone (lease expired, released by hand, or its process dead). */
export function interruptedRun(st: ClusterState, env: GuardEnv, me: Identity): RunRecord | undefined {
  const r = st.record;
  if (!r || r.state !== 'running') return undefined;
  // This machine ran it and recorded its end (its last write to the cluster failed): the record is stale.
  const local = new Journal(journalPath(env.stateDir, env.inventory.cluster)).read();
  if (local.some((x) => x.type === 'run-end' && x.run === r.run)) return undefined;
  if (!st.view.holderIdentity) return r;
  if (st.view.holder?.run !== r.run) return undefined;
  return st.view.expired || holderDead(env, me, st.view.holder) ? r : undefined;
}

type DecideSpec = Pick<OperationSpec<unknown>, 'operation' | 'resumes' | 'forceTakeover'>;

/**
 * Decides whether `spec` may take the cluster now; throws ClusterBusyError naming who holds it
 * and what it is doing. Returns what to say when a lease is broken or taken over.
 */
export function decide(st: ClusterState, env: GuardEnv, me: Identity, spec: DecideSpec): string | undefined {
  const cluster = env.inventory.cluster;
  const verb = spec.resumes
    ? `cannot ${spec.operation === 'abandon' ? 'abandon' : 'resume'} run ${spec.resumes.run}`
    : `cannot ${spec.operation} ${cluster}`;
  if (st.legacy) {
    const l = st.legacy;
    const expired = Date.parse(l.expires) <= st.now;
    const ours = spec.resumes !== undefined && l.run === spec.resumes.run;
    if (!expired && !ours && !spec.forceTakeover) {
      throw new ClusterBusyError(
        `${verb}: it is locked by ${l.holder} since ${l.since} (run ${l.run}, expires ${l.expires}), the lock of an older pve-k3s`,
        {
          holder: l.holder,
          hint: `wait for that upgrade to end. If its process is gone, the lock expires at ${l.expires}, or remove it by hand: kubectl annotate node ${env.via ?? env.inventory.controller} pve-k3s.io/upgrade-lock-`,
        },
      );
    }
  }
  const v = st.view;
  if (!v.holderIdentity) {
    const dead = interruptedRun(st, env, me);
    return dead ? interrupted(dead, st, spec, verb, 'its lease was released without ending it') : undefined;
  }
  const rec = recordOf(st);
  const known = holderDead(env, me, v.holder);
  if (v.live && !known) {
    if (spec.forceTakeover)
      return `breaking the cluster lease ${st.lease.where} held by ${v.holderIdentity}${rec ? ` (${inProgressText(rec, st.now)})` : ''}`;
    const what = rec ? inProgressText(rec, st.now) : `the cluster lease ${st.lease.where} is held by ${v.holderIdentity}`;
    const lease = `lease ${st.lease.where} held by ${v.holderIdentity}${v.renewedAt !== undefined ? `, renewed at ${hms(v.renewedAt)}` : ''}${v.expiresAt !== undefined ? `, expires at ${hms(v.expiresAt)} unless renewed` : ''}`;
    const op = rec?.operation ?? 'operation';
    const next = spec.resumes
      ? `if its process is gone, run this again once the lease has expired, or pass --force-takeover to break it now`
      : op === 'upgrade'
        ? `if its process is gone, \`pve-k3s resume\` continues it once the lease has expired, or at once with --force-takeover`
        : `if its process is gone, the lease expires by itself`;
    throw new ClusterBusyError(`${verb}: ${what}`, {
      holder: v.holderIdentity,
      ...(rec ? { record: rec } : {}),
      hint: `${lease}. Wait for that ${op} to end; ${next}`,
    });
  }
  const dead = interruptedRun(st, env, me);
  if (dead) return interrupted(dead, st, spec, verb, known ? 'its process is gone' : `its lease expired at ${hms(v.expiresAt ?? st.now)}`);
  return known
    ? `taking over the lease of ${v.holderIdentity} (its process is gone)`
    : `taking over the expired lease of ${v.holderIdentity}`;
}

function interrupted(dead: RunRecord, st: ClusterState, spec: DecideSpec, verb: string, why: string): string {
  const continues = spec.resumes !== undefined && spec.resumes.run === dead.run;
  const rerun = dead.operation !== 'upgrade' && dead.operation === spec.operation && spec.resumes === undefined;
  if (continues || rerun) return `taking over from run ${dead.run} (${dead.operation} by ${dead.by}; ${why})`;
  throw new ClusterBusyError(
    `${verb}: ${dead.operation} interrupted: ${stepText(dead)}${dead.inFlight.length ? ' was in flight' : ''}, by ${dead.by} since ${clock(dead.startedAt, st.now)} (${why})`,
    {
      holder: st.view.holderIdentity ?? dead.by,
      record: dead,
      hint:
        dead.operation === 'upgrade'
          ? `continue it with \`pve-k3s resume\`, or forget it with \`pve-k3s abandon\`${spec.operation === 'upgrade' && !spec.resumes ? ' (then `pve-k3s upgrade` re-reads the cluster)' : `, then run ${spec.operation} again`}`
          : `run that ${dead.operation} again (every step can be repeated), or forget it with \`pve-k3s abandon\``,
    },
  );
}

/** Reads the cluster and refuses as the operation would, without taking anything (early, before a plan is shown). */
export async function checkFree(env: GuardEnv, spec: DecideSpec): Promise<ClusterState> {
  const st = await readClusterState(env);
  decide(st, env, env.identity ?? localIdentity(), spec);
  return st;
}

/** A digest of a plan's steps: the same plan gives the same digest. */
export function planDigest(steps: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(steps)).digest('hex').slice(0, 16);
}

/**
 * The local journal's open run, closed from the cluster's record when another machine
 * continued or abandoned it (so a later `upgrade` here does not refuse for a run finished elsewhere).
 */
export function reconcileJournal(journal: Journal, record: RunRecord | undefined): string | undefined {
  const last = journal.lastRun();
  if (!last || !record || !resumable(last)) return undefined;
  const lineage = record.lineage ?? (record.resumes ? [record.resumes] : []);
  if (record.run !== last.run && lineage.includes(last.run)) {
    journal.append({
      type: 'run-end',
      run: last.run,
      status: 'resumed',
      leftCordoned: last.leftCordoned,
      midUpgrade: last.midUpgrade,
      by: `${record.run} (${record.by})`,
    });
    return `run ${last.run} was continued by run ${record.run} of ${record.by} (${record.state})`;
  }
  if (record.run === last.run && last.status === undefined && record.state !== 'running' && record.closedBy) {
    journal.append({
      type: 'run-end',
      run: last.run,
      status: record.state,
      leftCordoned: record.cordoned,
      midUpgrade: record.midUpgrade,
      by: record.closedBy,
    });
    return `run ${last.run} was ${record.state} by ${record.closedBy}`;
  }
  return undefined;
}

/** Runs `body` holding the cluster: see the module comment for the order of things. */
export async function guarded<T>(env: GuardEnv, spec: OperationSpec<T>, body: (g: Guarded) => Promise<T>): Promise<T> {
  const h = new Holding(env, spec);
  return h.execute(body);
}

class Holding<T> {
  readonly me: Identity;
  readonly now: () => number;
  readonly seconds: number;
  readonly journal: Journal;
  readonly run = newRunId();
  readonly holderId: string;
  readonly pcts = new Map<string, Pct>();
  readonly kube: Kube;
  readonly lease: ClusterLease;
  readonly abort = new AbortController();
  readonly log: (line: string) => void;
  current: LeaseObject | undefined;
  held = false;
  lost: LeaseLostError | undefined;
  stop = false;
  lastOk = 0;
  queue: Promise<unknown> = Promise.resolve();
  writing = false;
  timer: NodeJS.Timeout | undefined;
  record: RunRecord;
  stepIndex = 0;
  suspended = false;
  journaled = false;
  legacy: LegacyLock | undefined;
  /** The record the lease carried before we took it (put back when the run never started). */
  previous: string | undefined;

  constructor(
    readonly env: GuardEnv,
    readonly spec: OperationSpec<T>,
  ) {
    this.me = env.identity ?? localIdentity();
    this.now = env.now ?? Date.now;
    this.seconds = env.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    this.journal = new Journal(journalPath(env.stateDir, env.inventory.cluster));
    this.holderId = formatHolder({ ...this.me, run: this.run, operation: spec.operation });
    this.log = env.log ?? (() => {});
    this.kube = kubeFor(env, (host) => {
      let p = this.pcts.get(host);
      if (!p) {
        p = new Pct(env.shells.get(host)!, { sessions: true });
        this.pcts.set(host, p);
      }
      return p;
    });
    this.lease = new ClusterLease(this.kube, env.inventory.cluster);
    const started = new Date(this.now()).toISOString();
    const lineage = spec.resumes ? [spec.resumes.run, ...(spec.resumes.lineage ?? [])].slice(0, 20) : undefined;
    this.record = {
      v: RECORD_VERSION,
      run: this.run,
      operation: spec.operation,
      args: spec.args ?? [],
      by: `${this.me.user}@${this.me.host}`,
      pid: this.me.pid,
      startedAt: started,
      updatedAt: started,
      state: 'running',
      ...(spec.resumes ? { resumes: spec.resumes.run } : {}),
      ...(lineage ? { lineage } : {}),
      ...(spec.planDigest ? { planDigest: spec.planDigest } : {}),
      ...(spec.upgrade ?? {}),
      steps: spec.stepIds?.length ?? spec.steps ?? 0,
      completed: 0,
      inFlight: [],
      nodesDone: [],
      cordoned: [...(spec.cordoned ?? [])],
      midUpgrade: [...(spec.resumes?.midUpgrade ?? [])],
    };
  }

  async execute(body: (g: Guarded) => Promise<T>): Promise<T> {
    // 1. Nothing is taken before the journal is known writable.
    this.journal.checkWritable();
    try {
      // 2-3. Read, decide, take.
      let unleased = false;
      try {
        await this.acquire();
      } catch (e) {
        if (!(this.spec.clusterMayNotExist && (e instanceof LeaseError || e instanceof KubeError))) throw e;
        unleased = true;
      }
      // 4. Holding the lease, nothing recorded yet.
      if (this.spec.prepare) {
        try {
          await this.spec.prepare();
        } catch (e) {
          await this.finish({ status: 'failed', leftCordoned: [], midUpgrade: [], message: (e as Error).message }, false);
          throw e;
        }
      }
      // 5. The journal records the run; if it cannot, the lease goes back.
      try {
        this.startJournal();
      } catch (e) {
        await this.finish({ status: 'failed', leftCordoned: [], midUpgrade: [], message: (e as Error).message }, false);
        throw e;
      }
      if (!unleased || this.held) this.startRenewing();
      this.installSignals();
      // 6. The body.
      let value: T;
      try {
        value = await body(this.handle());
      } catch (e) {
        await this.finish(
          {
            status: e instanceof InterruptedError ? 'stopped' : 'failed',
            leftCordoned: this.record.cordoned,
            midUpgrade: this.record.midUpgrade,
            message: (e as Error).message,
          },
          true,
        );
        throw this.lost && !(e instanceof LeaseLostError) ? this.lost : e;
      }
      // 7. How it ended.
      const end = this.spec.outcome?.(value) ?? { status: 'done' as const, leftCordoned: [], midUpgrade: [] };
      await this.finish(end, true);
      return this.spec.closed ? this.spec.closed(value, this.lost) : value;
    } finally {
      this.removeSignals();
      if (this.timer) clearInterval(this.timer);
      await Promise.allSettled([...this.pcts.values()].map((p) => p.closeSessions()));
    }
  }

  private async acquire(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const st = await readClusterState(this.env, this.kube, this.abort.signal);
      const notice = decide(st, this.env, this.me, this.spec);
      this.legacy = st.legacy;
      this.previous = st.view.lease?.metadata.annotations?.[RECORD_ANNOTATION];
      const now = this.now();
      const obj = this.leaseWith(st.view.lease, now, true);
      const w = st.view.lease ? await this.lease.replace(obj, this.abort.signal) : await this.lease.create(obj, this.abort.signal);
      if (w.ok) {
        this.current = w.lease;
        this.held = true;
        this.lastOk = now;
        if (notice) this.log(`${notice}`);
        if (st.legacy) {
          const r = await this.lease.removeLegacy(this.abort.signal).catch(() => undefined);
          if (r && r.code === 0)
            this.log(`removed the old annotation lock of ${st.legacy.holder} (run ${st.legacy.run}) from ${this.kube.controllerName}`);
        }
        return;
      }
      // Someone else wrote it between our read and our write: read again (then refuse naming them).
      if (attempt >= 2)
        throw new ClusterBusyError(
          `cannot ${this.spec.operation} ${this.env.inventory.cluster}: the cluster lease ${this.lease.where} keeps changing under us`,
          { hint: 'another operator is taking it: wait, then try again' },
        );
    }
  }

  /** The Lease we write: held by us (renewTime now), or released (with the record as it was, when the run never started). */
  private leaseWith(read: LeaseObject | undefined, now: number, acquiring: boolean, release = false): LeaseObject {
    this.record.updatedAt = new Date(now).toISOString();
    const text = release && !this.journaled ? this.previous : encodeRecord(this.record);
    const annotations: Record<string, string> = text === undefined ? {} : { [RECORD_ANNOTATION]: text };
    const old = read?.spec ?? {};
    const transitions = (old.leaseTransitions ?? 0) + (acquiring && old.holderIdentity !== this.holderId ? 1 : 0);
    const spec = release
      ? {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: old.leaseTransitions ?? 0,
        }
      : {
          holderIdentity: this.holderId,
          leaseDurationSeconds: this.seconds,
          acquireTime: acquiring ? microTime(now) : (old.acquireTime ?? microTime(now)),
          renewTime: microTime(now),
          leaseTransitions: read ? transitions : 0,
        };
    const obj = read ? nextLease(read, spec, annotations) : newLease(this.env.inventory.cluster, spec, annotations);
    if (text === undefined && obj.metadata.annotations) delete obj.metadata.annotations[RECORD_ANNOTATION];
    return obj;
  }

  /** Rewrites the record (renewing the lease), serialized with every other write of ours. */
  private write(release = false): Promise<void> {
    const p = this.queue.then(async () => {
      if (!this.held || this.lost || (this.suspended && !release)) return;
      this.writing = true;
      try {
        for (let attempt = 0; attempt < 3; attempt++) {
          const now = this.now();
          const cur = this.current;
          if (!cur) return;
          const w = await this.lease.replace(this.leaseWith(cur, now, false, release));
          if (w.ok) {
            this.current = w.lease;
            this.lastOk = now;
            if (release) this.held = false;
            return;
          }
          // 409: did our own earlier write land unseen, or did someone else take it?
          const fresh = await this.lease.read();
          if (fresh?.spec.holderIdentity === this.holderId) {
            this.current = fresh;
            continue;
          }
          this.held = false;
          const rec = decodeRecord(fresh?.metadata.annotations?.[RECORD_ANNOTATION]);
          const by = fresh?.spec.holderIdentity
            ? fresh.spec.holderIdentity
            : rec && rec.run !== this.run
              ? `run ${rec.run} of ${rec.by} (${rec.operation}, ${rec.state === 'running' ? 'released' : rec.state})`
              : 'someone who then released or deleted it';
          this.lost = new LeaseLostError(
            `the cluster lease ${this.lease.where} was taken over by ${by}; this ${this.spec.operation} stopped`,
            { hint: 'someone else now works on the cluster: see `pve-k3s status`; the journal records where this run stopped' },
          );
          this.abort.abort(this.lost);
          return;
        }
      } finally {
        this.writing = false;
      }
    });
    this.queue = p.catch(() => {});
    return p;
  }

  private startRenewing(): void {
    const every = this.env.renewMs ?? Math.max(200, Math.floor((this.seconds * 1000) / 4));
    this.timer = setInterval(() => {
      if (this.writing || !this.held || this.suspended) return;
      this.write().catch(() => {
        // API down (a server restarting): the next tick or step boundary tries again.
      });
    }, every);
    this.timer.unref();
  }

  private startJournal(): void {
    const r = this.spec.resumes;
    const local = this.journal.lastRun();
    if (r && local?.run === r.run && resumable(local))
      this.journal.append({
        type: 'run-end',
        run: r.run,
        status: 'resumed',
        leftCordoned: r.leftCordoned,
        midUpgrade: r.midUpgrade,
        by: this.run,
      });
    const u = this.spec.upgrade;
    this.journal.append({
      type: 'run-start',
      run: this.run,
      operation: this.spec.operation,
      ...(this.spec.args?.length ? { args: this.spec.args } : {}),
      ...(this.spec.planDigest ? { planDigest: this.spec.planDigest } : {}),
      target: u?.target ?? '',
      source: u?.source ?? '',
      order: u?.order ?? '',
      allowSkew: u?.allowSkew ?? false,
      snapshot: u?.snapshot ?? false,
      holder: `${this.me.user}@${this.me.host} pid ${this.me.pid}`,
      steps: this.spec.stepIds ?? [],
      ...(r ? { resumes: r.run } : {}),
    });
    this.journaled = true;
  }

  /** Ends the run: journal (when it was started), record, release. Never throws. */
  private async finish(end: RunOutcome, journal: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (journal && this.journaled) {
      try {
        this.journal.append({
          type: 'run-end',
          run: this.run,
          status: end.status,
          leftCordoned: end.leftCordoned,
          midUpgrade: end.midUpgrade,
          ...(this.lost ? { message: this.lost.message } : end.message ? { message: end.message } : {}),
        });
      } catch (e) {
        this.log(`warning: could not record the end of run ${this.run} in ${this.journal.file}: ${(e as Error).message}`);
      }
    }
    if (this.lost) this.log(`warning: ${this.lost.message}`);
    if (this.lost || !this.held) return;
    this.record.state = end.status;
    this.record.endedAt = new Date(this.now()).toISOString();
    this.record.inFlight = [];
    this.record.cordoned = end.leftCordoned;
    this.record.midUpgrade = end.midUpgrade;
    try {
      await this.write(true);
    } catch (e) {
      const expires = new Date(this.lastOk + this.seconds * 1000).toISOString();
      this.log(
        `warning: could not release the cluster lease ${this.lease.where} (${(e as Error).message}); it expires by itself at ${expires}`,
      );
    }
  }

  private signalHandler: ((s: NodeJS.Signals) => void) | undefined;

  private installSignals(): void {
    const sig = this.env.signals;
    if (!sig) return;
    this.signalHandler = (s: NodeJS.Signals) => {
      if (!this.stop) {
        this.stop = true;
        sig.onStop?.(s);
      } else this.abort.abort(new InterruptedError(`aborted by ${s}`));
    };
    process.on('SIGINT', this.signalHandler);
    process.on('SIGTERM', this.signalHandler);
  }

  private removeSignals(): void {
    if (!this.signalHandler) return;
    process.off('SIGINT', this.signalHandler);
    process.off('SIGTERM', this.signalHandler);
  }

  private nodeSteps(node: string): string[] {
    return (this.spec.stepIds ?? []).filter((id) => id.split('/')[1] === node);
  }

  /** Keeps the record in step with what the journal says. */
  private observe(rec: JournalRecord): void {
    const r = this.record;
    if (rec.type === 'step-start') {
      const ids = this.spec.stepIds;
      const index = ids ? ids.indexOf(rec.step) + 1 || ++this.stepIndex : ++this.stepIndex;
      r.inFlight.push({ step: rec.step, node: rec.node, index });
      const kind = rec.step.split('/')[2];
      if (kind === 'drain' && !r.cordoned.includes(rec.node)) r.cordoned.push(rec.node);
      if ((kind === 'install' || kind === 'restart') && !r.midUpgrade.includes(rec.node)) r.midUpgrade.push(rec.node);
    } else if (rec.type === 'step-done' || rec.type === 'step-failed') {
      const f = r.inFlight.find((x) => x.step === rec.step);
      r.inFlight = r.inFlight.filter((x) => x.step !== rec.step);
      const node = f?.node ?? rec.step.split('/')[1] ?? '';
      if (rec.type === 'step-failed') {
        r.failed = { step: rec.step, message: rec.message };
        return;
      }
      r.completed++;
      r.lastCompleted = rec.step;
      const kind = rec.step.split('/')[2];
      if (kind === 'uncordon') r.cordoned = r.cordoned.filter((n) => n !== node);
      if (kind === 'wait-ready') r.midUpgrade = r.midUpgrade.filter((n) => n !== node);
      this.doneSteps.add(rec.step);
      const mine = this.nodeSteps(node);
      if (mine.length > 0 && mine.every((id) => this.doneSteps.has(id)) && !r.nodesDone.includes(node)) r.nodesDone.push(node);
    }
  }

  private readonly doneSteps = new Set<string>();

  private async boundary(step: { id: string; node: string }): Promise<void> {
    if (this.lost) throw this.lost;
    if (!this.held) return;
    this.record.inFlight.push({
      step: step.id,
      node: step.node,
      index: (this.spec.stepIds?.indexOf(step.id) ?? -1) + 1 || this.stepIndex + 1,
    });
    try {
      await this.write();
    } catch (e) {
      const silent = this.now() - this.lastOk;
      if (silent >= this.seconds * 1000)
        throw new LeaseLostError(
          `the cluster lease ${this.lease.where} could not be renewed for ${Math.round(silent / 1000)}s, longer than its ${this.seconds}s: another operator may have taken the cluster over; stopped before ${step.id}`,
          { hint: 'see `pve-k3s status`, then `pve-k3s resume`', cause: e },
        );
    } finally {
      // The journal's step-start (next) puts it back with its real index.
      this.record.inFlight = this.record.inFlight.filter((x) => x.step !== step.id);
    }
    if (this.lost) throw this.lost;
  }

  private handle(): Guarded {
    const signal = this.abort.signal;
    const append = (rec: JournalRecord) => {
      this.journal.append(rec);
      this.observe(rec);
    };
    return {
      run: this.run,
      signal,
      stopRequested: () => this.stop,
      journal: { append },
      beforeStep: (step) => this.boundary(step),
      step: async <R>(id: string, node: string, fn: () => Promise<R>): Promise<R> => {
        if (this.stop) throw new InterruptedError(`stopped before ${id} (Ctrl-C)`);
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError(`aborted before ${id}`);
        await this.boundary({ id, node });
        append({ type: 'step-start', run: this.run, step: id, node });
        const t0 = Date.now();
        try {
          const r = await fn();
          append({ type: 'step-done', run: this.run, step: id, ms: Date.now() - t0 });
          return r;
        } catch (e) {
          append({ type: 'step-failed', run: this.run, step: id, message: (e as Error).message, interrupted: signal.aborted });
          throw e;
        }
      },
      note: (message, node) => append({ type: 'note', run: this.run, message, ...(node ? { node } : {}) }),
      replacingDatastore: async <R>(fn: () => Promise<R>): Promise<R> => {
        this.suspended = true;
        try {
          const r = await fn();
          await this.retake();
          return r;
        } finally {
          this.suspended = false;
        }
      },
      clusterUp: async () => {
        if (this.held) return;
        await this.acquire();
        this.startRenewing();
      },
    };
  }

  /** After the datastore was replaced: the Lease is whatever the backup held (or none); ours again, whoever it names. */
  private async retake(): Promise<void> {
    await this.queue;
    const fresh = await this.lease.read();
    const now = this.now();
    const obj = this.leaseWith(fresh, now, true);
    const w = fresh ? await this.lease.replace(obj) : await this.lease.create(obj);
    if (!w.ok)
      throw new LeaseLostError(
        `the cluster lease ${this.lease.where} changed while the datastore was being replaced; another operator may be at work`,
      );
    if (fresh?.spec.holderIdentity && fresh.spec.holderIdentity !== this.holderId)
      this.log(`the restored datastore held the lease of ${fresh.spec.holderIdentity}: it is ours again`);
    this.current = w.lease;
    this.held = true;
    this.lastOk = now;
  }
}

export type { RunRecord };
export { recordSummary };

export interface AbandonResult {
  /** The holder whose lease was released, when the run still held it. */
  released: string | undefined;
  /** What was said when a lease was broken or taken over. */
  notice: string | undefined;
}

/**
 * `abandon`: closes a run (this machine's, or one the cluster's record shows), once its holder
 * is gone (or with forceTakeover): the record says abandoned and the lease is released in the
 * same write, the old annotation lock of that run is removed, and the local journal closes it.
 */
export async function abandonRun(env: GuardEnv, target: RunSummary, o: { forceTakeover?: boolean } = {}): Promise<AbandonResult> {
  const journal = new Journal(journalPath(env.stateDir, env.inventory.cluster));
  journal.checkWritable();
  const me = env.identity ?? localIdentity();
  const now = env.now ?? Date.now;
  const kube = kubeFor(env);
  let released: string | undefined;
  let notice: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const st = await readClusterState(env, kube);
    notice = decide(st, env, me, { operation: 'abandon', resumes: target, ...(o.forceTakeover ? { forceTakeover: true } : {}) });
    const rec = st.record?.run === target.run ? st.record : undefined;
    const holds = st.view.holder?.run === target.run;
    if (st.legacy?.run === target.run) await st.lease.removeLegacy();
    if (!st.view.lease || (!rec && !holds)) break;
    const t = now();
    const record: RunRecord | undefined = rec
      ? {
          ...rec,
          state: 'abandoned',
          endedAt: new Date(t).toISOString(),
          updatedAt: new Date(t).toISOString(),
          inFlight: [],
          closedBy: `${me.user}@${me.host}`,
        }
      : undefined;
    const old = st.view.lease.spec;
    const spec = holds
      ? {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(t),
          renewTime: microTime(t),
          leaseTransitions: old.leaseTransitions ?? 0,
        }
      : old;
    const w = await st.lease.replace(nextLease(st.view.lease, spec, record ? { [RECORD_ANNOTATION]: encodeRecord(record) } : {}));
    if (w.ok) {
      if (holds) released = st.view.holderIdentity;
      break;
    }
    if (attempt >= 2)
      throw new ClusterBusyError(`cannot abandon run ${target.run}: the cluster lease ${st.lease.where} keeps changing under us`, {
        hint: 'another operator is at work: see pve-k3s status',
      });
  }
  const local = journal.lastRun();
  if (local?.run === target.run && resumable(local))
    journal.append({
      type: 'run-end',
      run: target.run,
      status: 'abandoned',
      leftCordoned: target.leftCordoned,
      midUpgrade: target.midUpgrade,
    });
  return { released, notice };
}
