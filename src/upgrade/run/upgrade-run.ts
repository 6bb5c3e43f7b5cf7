/**
 * The guarded upgrade run shared by `upgrade` and `resume`: the guarded operation
 * (src/operation/guard.ts) takes the cluster lease, probes snapshot support while holding it
 * (a failure there records no run), records the run in the journal and the cluster, runs the
 * plan (each step boundary rewrites the run record), records how it ended, releases the lease.
 */
import { hostname } from 'node:os';
import { RunError } from '../../domain/errors.js';
import { planSteps, type UpgradePlan } from '../../domain/plan.js';
import { stateDir } from '../../inventory/paths.js';
import type { Inventory, UpgradeOrder } from '../../inventory/types.js';
import { PctPool, type Pct } from '../../proxmox/pct.js';
import type { Emit } from '../../domain/events.js';
import { Journal, journalPath, resumable, unconfirmedNodes, type RunSummary } from '../../operation/journal.js';
import {
  guarded,
  guardEnvFor,
  LeaseLostError,
  planDigest,
  type ClusterState,
  type GuardEnv,
  type OperationSpec,
} from '../../operation/guard.js';
import { recordSummary } from '../../operation/run-record.js';
import { runPlan, type RunPlanResult } from './run-plan.js';
import { beforeEachNode } from './between-nodes.js';
import { runNotices } from './run-notices.js';
import { isEtcdMember, probeSnapshots } from './snapshots.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { planCluster, type ClusterPlan, type PlanFlags } from '../plan/plan-cluster.js';

export function journalFor(inv: Inventory, env: NodeJS.ProcessEnv): Journal {
  return new Journal(journalPath(stateDir(env), inv.cluster));
}

/** True when `holder` (`user@host pid N`) names a live process on this machine. */
export function holderAlive(holder: string): boolean {
  const m = /^[^@]*@(\S+) pid (\d+)$/.exec(holder);
  if (!m || m[1] !== hostname()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return Number(m[2]) !== process.pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `upgrade` refuses to start while this machine's journal records a run that never ended
 * (the cluster's record says the same, and more, when it could be read: see the guard).
 */
export function refuseIfInProgress(journal: Journal, cluster: string): void {
  const last = journal.lastRun();
  if (!last || last.status !== undefined) return;
  const where = last.inFlight
    ? `step ${last.inFlight} was in flight`
    : last.completed.length > 0
      ? `last finished step ${last.completed.at(-1)}`
      : 'no step finished';
  const alive = holderAlive(last.holder);
  throw new RunError(
    `an ${last.operation} of ${cluster} is recorded in progress: run ${last.run}, started ${last.startedAt} by ${last.holder}, ${where}`,
    {
      step: last.inFlight,
      hint: alive
        ? 'that process is still running: wait for it, or stop it with Ctrl-C'
        : 'continue it with `pve-k3s resume`, or forget it with `pve-k3s abandon` (then `pve-k3s upgrade` re-reads the cluster)',
      detail: `journal: ${journal.file}`,
    },
  );
}

/**
 * The run `resume` and `abandon` act on: this machine's last unfinished run, or the one the
 * cluster's record shows unfinished (started on another machine), the newer of the two.
 */
export function runToContinue(
  journal: Journal,
  st: ClusterState | undefined,
): { run: RunSummary; from: 'journal' | 'cluster' } | undefined {
  const local = journal.lastRun();
  const rec = st?.record;
  const recOpen = rec && (rec.state === 'running' || rec.state === 'failed' || rec.state === 'stopped') ? recordSummary(rec) : undefined;
  const localOpen = local && resumable(local) ? local : undefined;
  if (localOpen && (!recOpen || recOpen.run === localOpen.run || localOpen.startedAt > recOpen.startedAt))
    return {
      run: recOpen?.run === localOpen.run ? { ...localOpen, ...(recOpen.lineage ? { lineage: recOpen.lineage } : {}) } : localOpen,
      from: 'journal',
    };
  if (recOpen) return { run: recOpen, from: 'cluster' };
  return undefined;
}

export interface ExecuteOptions {
  env: NodeJS.ProcessEnv;
  emit: Emit;
  signal?: AbortSignal;
  stopRequested?: () => boolean;
  order: string;
  allowSkew: boolean;
  snapshot: { enabled: boolean; retention: number };
  /** The run this one continues (`resume`): its lease may be taken over, and it is marked resumed. */
  resumes?: RunSummary;
  /** Break a live lease (`resume --force-takeover`). */
  forceTakeover?: boolean;
  /** Over the guard's environment (identity, clock, lease duration, signals, notices). */
  guard?: Partial<GuardEnv>;
  poll?: { minMs: number; maxMs: number };
  /** The canary's confirmation (see RunPlanOptions.confirm). */
  confirm?: (question: string) => Promise<boolean>;
  confirmedBy?: string;
  /** Time between the looks of a soak. @default 10 s */
  soakPollMs?: number;
}

export interface ExecuteResult extends RunPlanResult {
  run: string;
  journalFile: string;
  /** Why the run stopped when another operator took the cluster's lease over. */
  leaseLost: string | undefined;
}

/** One Pct per Proxmox host of the connection, made on first use. */
export function pctCache(conn: ClusterConnection): (host: string) => Pct {
  return new PctPool(conn.shells).pct;
}

/**
 * What an upgrade tells the guard, whichever engine does the node work: its steps and digest,
 * the target, the nodes cordoned before the run, the snapshot check before the lease is used,
 * and how the run ended (a stop on purpose with its reason).
 */
export function upgradeSpec(
  plan: UpgradePlan,
  o: ExecuteOptions,
  { conn, pct }: { conn: ClusterConnection; pct: (host: string) => Pct },
): OperationSpec<ExecuteResult> {
  const inv = conn.inventory;
  const steps = planSteps(plan);
  return {
    operation: 'upgrade',
    stepIds: steps.map((s) => s.id),
    planDigest: planDigest(steps.map((s) => [s.id, s.version])),
    upgrade: {
      target: plan.target.version,
      source: plan.target.source,
      order: o.order,
      allowSkew: o.allowSkew,
      snapshot: o.snapshot.enabled,
    },
    cordoned: steps.filter((s) => s.id.startsWith('0/') && s.kind === 'uncordon').map((s) => s.node),
    ...(o.resumes ? { resumes: o.resumes } : {}),
    ...(o.forceTakeover ? { forceTakeover: true } : {}),
    outcome: (r) => ({
      status: r.ok ? 'done' : r.interrupted ? 'stopped' : 'failed',
      leftCordoned: r.leftCordoned,
      midUpgrade: r.midUpgrade,
      ...(r.stopped ? { message: r.stopped.message } : {}),
    }),
    closed: (r, lost) => (lost && !r.leaseLost ? { ...r, leaseLost: lost.message } : r),
    prepare: async () => {
      if (!o.snapshot.enabled) return;
      const targets = inv.nodes.filter(
        (n) => plan.nodes.some((p) => p.node === n.name && p.action === 'upgrade') && !isEtcdMember(inv, n.name),
      );
      const problems = await probeSnapshots(targets, pct, o.signal);
      if (problems.length > 0) {
        throw new RunError(
          `snapshots were asked for (upgrade.snapshot or --snapshot) but ${problems.length} container(s) cannot be snapshotted: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
          {
            hint: 'nothing was changed; run without --snapshot (set upgrade.snapshot: false), or move the containers to storage with snapshots (ZFS, LVM-thin, Ceph)',
            detail: problems.join('\n'),
          },
        );
      }
    },
  };
}

/** A run's result as both engines return it: the run, its journal and whether the lease was lost. */
export function executeResult(result: RunPlanResult, g: { run: string; signal: AbortSignal; journalFile: string }): ExecuteResult {
  const reason: unknown = g.signal.aborted ? g.signal.reason : undefined;
  return {
    ...result,
    run: g.run,
    journalFile: g.journalFile,
    leaseLost:
      reason instanceof LeaseLostError
        ? reason.message
        : result.failed?.error instanceof LeaseLostError
          ? result.failed.error.message
          : undefined,
  };
}

export async function executeUpgrade(conn: ClusterConnection, plan: UpgradePlan, o: ExecuteOptions): Promise<ExecuteResult> {
  const inv = conn.inventory;
  const env = guardEnvFor(conn, o.env, o.guard);
  const journalFile = journalPath(env.stateDir, inv.cluster);
  const pct = pctCache(conn);
  const beforeNode = beforeEachNode(inv.upgrade);
  // The runner's sessions into the controller and the first node, opened now (a pct exec start
  // each, ~0.4 s on a real host): they start while the lease is taken, and the first drain and
  // install find them ready (later nodes' open while the node before them upgrades). Opening a
  // session into a container changes nothing; a refused or failed run closes them in the finally.
  const sessions = new PctPool(conn.shells, { sessions: true });
  const ctrl = inv.nodes.find((n) => n.name === plan.controller);
  const first = planSteps(plan)[0];
  if (ctrl && first) sessions.pct(ctrl.host).warm(ctrl.vmid, { spare: true });
  if (first && first.vmid !== ctrl?.vmid) sessions.pct(first.host).warm(first.vmid);
  try {
    return await guarded<ExecuteResult>(env, upgradeSpec(plan, o, { conn, pct }), async (g) => {
      const signal = o.signal ? AbortSignal.any([o.signal, g.signal]) : g.signal;
      const notices = runNotices(plan, { urls: inv.upgrade.notify ?? [], run: g.run, clock: conn.clock, emit: o.emit });
      await notices?.start();
      const result = await runPlan(plan, {
        inventory: inv,
        shells: conn.shells,
        emit: notices?.emit ?? o.emit,
        signal,
        stopRequested: () => g.stopRequested() || (o.stopRequested?.() ?? false),
        ...(o.poll ? { poll: o.poll } : {}),
        clock: conn.clock,
        journal: { journal: g.journal, run: g.run },
        beforeStep: (step) => g.beforeStep(step),
        snapshot: o.snapshot,
        ...(o.confirm ? { confirm: o.confirm } : {}),
        ...(o.confirmedBy ? { confirmedBy: o.confirmedBy } : {}),
        ...(o.soakPollMs ? { soakPollMs: o.soakPollMs } : {}),
        ...(beforeNode ? { beforeNode } : {}),
        pcts: sessions,
      });
      await notices?.end(result);
      return executeResult(result, { run: g.run, signal: g.signal, journalFile });
    });
  } finally {
    await sessions.closeSessions();
  }
}

/**
 * The plan that continues `last`: the cluster re-read, planned again towards the recorded
 * target, order and skew choice (every step is idempotent and the planner skips what is done),
 * with the health gate of every node the run touched without confirming it put first.
 */
export async function planResume(
  conn: ClusterConnection,
  last: RunSummary,
  extra: Pick<PlanFlags, 'ignorePreflight' | 'soakSeconds' | 'canarySoakSeconds'> = {},
): Promise<UpgradePlan> {
  return (await planResumeWithFacts(conn, last, extra)).plan;
}

/** planResume, with the facts it was planned from (the final table after the run starts from them). */
export async function planResumeWithFacts(
  conn: ClusterConnection,
  last: RunSummary,
  extra: Pick<PlanFlags, 'ignorePreflight' | 'soakSeconds' | 'canarySoakSeconds'> = {},
): Promise<ClusterPlan> {
  return planCluster(conn, {
    ...extra,
    version: last.target,
    order: last.order as UpgradeOrder,
    allowSkew: last.allowSkew,
    unconfirmed: unconfirmedNodes(last),
  });
}

/** A resume with nothing left to do: the run is closed as done in the journal and the cluster (its lease released). */
export async function closeResumed(env: GuardEnv, last: RunSummary, forceTakeover?: boolean): Promise<void> {
  await guarded(
    env,
    {
      operation: 'upgrade',
      stepIds: [],
      resumes: last,
      ...(forceTakeover ? { forceTakeover: true } : {}),
      upgrade: { target: last.target, source: last.source, order: last.order, allowSkew: last.allowSkew, snapshot: last.snapshot },
    },
    async () => undefined,
  );
}
