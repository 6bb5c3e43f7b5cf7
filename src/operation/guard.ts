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
 *  6. the body runs; every step boundary rewrites the record (and renews the lease), before
 *     the step for one the record must name first (drain, install, restart), beside it for the
 *     others (BESIDE); a timer renews it meanwhile, and a lease someone else took stops the run
 *     at once;
 *  7. the journal records how the run ended, the record says it too, and the lease is released
 *     in the same write (holder emptied under the resourceVersion read). When that write
 *     cannot be made, the lease expires by itself and the record tells resume and abandon
 *     what happened.
 * A killed process leaves the journal and the record with the step in flight and the lease
 * expiring; `resume` and `abandon` act on them (at once on the same machine, where the dead
 * process is known dead; elsewhere once the lease has expired, or with --force-takeover).
 *
 * The parts: guard-spec.ts (what a guarded operation is given and gets), takeover.ts (reading
 * the cluster and deciding who may take it), lease-holder.ts (taking, renewing, releasing the
 * Lease), record-progress.ts (the run record a run writes), reconcile.ts (closing local runs
 * from the cluster's record, and `abandon`).
 */
import { createHash } from 'node:crypto';
import { InterruptedError, KubeError } from '../domain/errors.js';
import type { Kube } from '../kube/kube.js';
import { PctPool } from '../proxmox/pct.js';
import { Journal, journalPath, newRunId, resumable, type JournalRecord } from './journal.js';
import { DEFAULT_LEASE_SECONDS, formatHolder, LeaseError, localIdentity, type Identity } from './lease.js';
import { recordSummary, type RunRecord } from './run-record.js';
import { kubeFor, LeaseLostError, type GuardEnv, type Guarded, type OperationSpec, type RunOutcome } from './guard-spec.js';
import { LeaseHolder } from './lease-holder.js';
import { RecordProgress } from './record-progress.js';

export {
  ClusterBusyError,
  guardEnvFor,
  kubeFor,
  LeaseLostError,
  pctOn,
  type GuardEnv,
  type Guarded,
  type OperationSpec,
  type RunOutcome,
  type UpgradeFacts,
} from './guard-spec.js';
export { checkFree, decide, interruptedRun, readClusterState, type ClusterState, type DecideSpec } from './takeover.js';
export { abandonRun, reconcileJournal, type AbandonResult } from './reconcile.js';
export type { RunRecord };
export { recordSummary };

/** A digest of a plan's steps: the same plan gives the same digest. */
export function planDigest(steps: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(steps)).digest('hex').slice(0, 16);
}

/**
 * Upgrade step kinds whose boundary write is not waited for: nothing they do needs the record
 * to say it first (RecordProgress.aboutToStart names the node a drain cordons, and one an
 * install or restart may leave on either version, before the command is sent).
 */
const BESIDE = new Set(['wait-ready', 'soak', 'uncordon']);

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
  readonly pcts: PctPool;
  readonly kube: Kube;
  readonly abort = new AbortController();
  readonly log: (line: string) => void;
  readonly progress: RecordProgress;
  readonly holder: LeaseHolder;
  stop = false;
  journaled = false;

  constructor(
    readonly env: GuardEnv,
    readonly spec: OperationSpec<T>,
  ) {
    this.me = env.identity ?? localIdentity();
    this.now = env.now ?? Date.now;
    this.seconds = env.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    this.journal = new Journal(journalPath(env.stateDir, env.inventory.cluster));
    this.log = env.log ?? (() => {});
    this.pcts = new PctPool(env.shells, { sessions: true });
    this.kube = kubeFor(env, this.pcts.pct);
    this.progress = new RecordProgress(spec, { run: this.run, me: this.me, now: this.now() });
    this.holder = new LeaseHolder({
      env,
      spec,
      me: this.me,
      run: this.run,
      holderId: formatHolder({ ...this.me, run: this.run, operation: spec.operation }),
      seconds: this.seconds,
      now: this.now,
      kube: this.kube,
      abort: this.abort,
      log: this.log,
      record: () => this.progress.record,
      journaled: () => this.journaled,
    });
  }

  get record(): RunRecord {
    return this.progress.record;
  }

  async execute(body: (g: Guarded) => Promise<T>): Promise<T> {
    // 1. Nothing is taken before the journal is known writable.
    this.journal.checkWritable();
    try {
      // 2-3. Read, decide, take.
      let unleased = false;
      try {
        await this.holder.acquire();
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
      if (!unleased || this.holder.held) this.holder.startRenewing(this.env.renewMs);
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
        throw this.holder.lost && !(e instanceof LeaseLostError) ? this.holder.lost : e;
      }
      // 7. How it ended.
      const end = this.spec.outcome?.(value) ?? { status: 'done' as const, leftCordoned: [], midUpgrade: [] };
      await this.finish(end, true);
      return this.spec.closed ? this.spec.closed(value, this.holder.lost) : value;
    } finally {
      this.removeSignals();
      this.holder.stopRenewing();
      await this.pcts.closeSessions();
    }
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
    this.holder.stopRenewing();
    if (journal && this.journaled) {
      try {
        this.journal.append({
          type: 'run-end',
          run: this.run,
          status: end.status,
          leftCordoned: end.leftCordoned,
          midUpgrade: end.midUpgrade,
          ...(this.holder.lost ? { message: this.holder.lost.message } : end.message ? { message: end.message } : {}),
        });
      } catch (e) {
        this.log(`warning: could not record the end of run ${this.run} in ${this.journal.file}: ${(e as Error).message}`);
      }
    }
    if (this.holder.lost) this.log(`warning: ${this.holder.lost.message}`);
    if (this.holder.lost || !this.holder.held) return;
    this.record.state = end.status;
    this.record.endedAt = new Date(this.now()).toISOString();
    this.record.inFlight = [];
    this.record.cordoned = end.leftCordoned;
    this.record.midUpgrade = end.midUpgrade;
    try {
      await this.holder.write(true);
    } catch (e) {
      const expires = new Date(this.holder.lastOk + this.seconds * 1000).toISOString();
      this.log(
        `warning: could not release the cluster lease ${this.holder.lease.where} (${(e as Error).message}); it expires by itself at ${expires}`,
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

  private async boundary(step: { id: string; node: string }): Promise<void> {
    if (this.holder.lost) throw this.holder.lost;
    if (!this.holder.held) return;
    if (BESIDE.has(step.id.split('/')[2] ?? '')) {
      // A step that changes nothing the record must name first (a health gate, a soak, an
      // uncordon: the record keeps the node cordoned until it is done): the record is rewritten
      // and the lease renewed beside it, in order with every other write; a write that fails is
      // the next written-ahead boundary's to report, as between steps.
      this.holder.write().catch(() => {});
      return;
    }
    // Written ahead: the record names the node a drain is about to cordon before it is sent.
    this.progress.aboutToStart(step);
    this.record.inFlight.push({
      step: step.id,
      node: step.node,
      index: this.progress.indexOf(step.id),
    });
    try {
      await this.holder.write();
    } catch (e) {
      const silent = this.now() - this.holder.lastOk;
      if (silent >= this.seconds * 1000)
        throw new LeaseLostError(
          `the cluster lease ${this.holder.lease.where} could not be renewed for ${Math.round(silent / 1000)}s, longer than its ${this.seconds}s: another operator may have taken the cluster over; stopped before ${step.id}`,
          { hint: 'see `pve-k3s status`, then `pve-k3s resume`', cause: e },
        );
    } finally {
      // The journal's step-start (next) puts it back with its real index.
      this.record.inFlight = this.record.inFlight.filter((x) => x.step !== step.id);
    }
    if (this.holder.lost) throw this.holder.lost;
  }

  private handle(): Guarded {
    const signal = this.abort.signal;
    const append = (rec: JournalRecord) => {
      this.journal.append(rec);
      this.progress.observe(rec);
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
        this.holder.suspended = true;
        try {
          const r = await fn();
          await this.holder.retake();
          return r;
        } finally {
          this.holder.suspended = false;
        }
      },
      clusterUp: async () => {
        if (this.holder.held) return;
        await this.holder.acquire();
        this.holder.startRenewing(this.env.renewMs);
      },
    };
  }
}
