/**
 * The guarded upgrade run shared by `upgrade` and `resume`: refuse while the journal records a
 * run in progress, take the cluster lock, probe snapshot support up front, record the run in
 * the journal, run the plan, record how it ended, release the lock.
 */
import { hostname } from 'node:os';
import { RunError, invariant } from '../../domain/errors.js';
import type { UpgradePlan } from '../../domain/plan.js';
import { planSteps } from '../../domain/plan.js';
import { stateDir } from '../../inventory/paths.js';
import type { Inventory } from '../../inventory/types.js';
import { Kube } from '../../kube/kube.js';
import { Pct } from '../../proxmox/pct.js';
import type { Emit } from '../../domain/events.js';
import { Journal, journalPath, newRunId, type RunSummary } from '../../operation/journal.js';
import { ClusterLock, holderName } from '../../operation/lock.js';
import { runPlan, type RunPlanResult } from './run-plan.js';
import { isEtcdMember, probeSnapshots } from './snapshots.js';
import type { ClusterConnection } from '../../operation/connect.js';

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

/** `upgrade` refuses to start while the journal records a run that never ended. */
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
    `an upgrade of ${cluster} is recorded in progress: run ${last.run}, started ${last.startedAt} by ${last.holder}, ${where}`,
    {
      step: last.inFlight,
      hint: alive
        ? 'that process is still running: wait for it, or stop it with Ctrl-C'
        : 'continue it with `pve-k3s resume`, or forget it with `pve-k3s abandon` (then `pve-k3s upgrade` re-reads the cluster)',
      detail: `journal: ${journal.file}`,
    },
  );
}

export interface ExecuteOptions {
  env: NodeJS.ProcessEnv;
  emit: Emit;
  signal?: AbortSignal;
  stopRequested?: () => boolean;
  order: string;
  allowSkew: boolean;
  snapshot: { enabled: boolean; retention: number };
  /** The run this one continues (`resume`): its lock may be taken over, and it is marked resumed. */
  resumes?: RunSummary;
  lockTtlMs?: number;
  poll?: { minMs: number; maxMs: number };
}

export interface ExecuteResult extends RunPlanResult {
  run: string;
  journalFile: string;
  /** Why the lock could not be released (it then expires by itself). */
  lockError: string | undefined;
}

/**
 * The guarded run of `pve-k3s upgrade` and `resume`: refuses to start without the cluster lock,
 * probes snapshot support when asked, journals the run and every step (for `resume`), runs the
 * plan, and releases the lock on every path.
 */
export async function executeUpgrade(conn: ClusterConnection, plan: UpgradePlan, o: ExecuteOptions): Promise<ExecuteResult> {
  const inv = conn.inventory;
  const journal = journalFor(inv, o.env);
  const pcts = new Map<string, Pct>();
  const pct = (host: string): Pct => {
    let p = pcts.get(host);
    if (!p) {
      const shell = conn.shells.get(host);
      invariant(shell, `no shell for Proxmox host ${host}`);
      p = new Pct(shell);
      pcts.set(host, p);
    }
    return p;
  };
  const ctrl = inv.nodes.find((n) => n.name === plan.controller);
  invariant(ctrl, `controller ${plan.controller} is not in the inventory`);
  const kube = new Kube(pct(ctrl.host), ctrl.vmid, ctrl.name);
  const run = newRunId();
  const holder = holderName();
  const lock = new ClusterLock({
    kube,
    node: ctrl.name,
    holder,
    run,
    ...(o.lockTtlMs ? { ttlMs: o.lockTtlMs } : {}),
    ...(o.resumes ? { takeOver: o.resumes.run } : {}),
  });
  await lock.acquire();
  try {
    if (o.snapshot.enabled) {
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
    }
  } catch (err) {
    await lock.release();
    throw err;
  }
  if (o.resumes)
    journal.append({
      type: 'run-end',
      run: o.resumes.run,
      status: 'resumed',
      leftCordoned: o.resumes.leftCordoned,
      midUpgrade: o.resumes.midUpgrade,
    });
  journal.append({
    type: 'run-start',
    run,
    target: plan.target.version,
    source: plan.target.source,
    order: o.order,
    allowSkew: o.allowSkew,
    snapshot: o.snapshot.enabled,
    holder,
    steps: planSteps(plan).map((s) => s.id),
    ...(o.resumes ? { resumes: o.resumes.run } : {}),
  });
  lock.startRenewing();
  let result: RunPlanResult | undefined;
  try {
    result = await runPlan(plan, {
      inventory: inv,
      shells: conn.shells,
      emit: o.emit,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.stopRequested ? { stopRequested: o.stopRequested } : {}),
      ...(o.poll ? { poll: o.poll } : {}),
      journal: { journal, run },
      snapshot: o.snapshot,
    });
    return { ...result, run, journalFile: journal.file, lockError: await lock.release() };
  } finally {
    if (!result) await lock.release();
    const status = result === undefined ? 'failed' : result.ok ? 'done' : result.interrupted ? 'stopped' : 'failed';
    journal.append({ type: 'run-end', run, status, leftCordoned: result?.leftCordoned ?? [], midUpgrade: result?.midUpgrade ?? [] });
  }
}
