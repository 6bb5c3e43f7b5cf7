/**
 * What `upgrade` and `resume` share to run a plan: the maintenance window, the canary's
 * confirmation, the run itself with its progress and Ctrl-C handling.
 */
import { confirm } from '../confirm.js';
import { UsageError } from '../../domain/errors.js';
import { planSteps, type UpgradePlan } from '../../domain/plan.js';
import { parallelWarning } from '../../upgrade/plan/planner.js';
import type { RunSummary } from '../../operation/journal.js';
import type { ExecuteResult } from '../../upgrade/run/upgrade-run.js';
import type { ClusterConnection } from '../../operation/connect.js';
import type { GlobalOptions } from '../context.js';
import { plainProgress, quietProgress, ttyProgress, type Progress } from '../progress.js';
import { withHeartbeats } from '../heartbeat.js';
import type { Engine } from './upgrade-flags.js';

/** True without a maintenance window or inside it. */
export async function windowOpen(conn: ClusterConnection): Promise<boolean> {
  const w = conn.inventory.upgrade.window;
  if (!w) return true;
  const { inWindow } = await import('../../domain/window.js');
  return inWindow(w, new Date(conn.clock.now()));
}

/**
 * Before a run starts (and before it is planned): inside the maintenance window, or waiting
 * for it with --wait-for-window; otherwise refused (exit 1) saying when the next one opens.
 */
export async function enterWindow(
  conn: ClusterConnection,
  verb: 'upgrade' | 'resume',
  { wait, quiet }: { wait: boolean; quiet: boolean },
): Promise<void> {
  const w = conn.inventory.upgrade.window;
  if (!w) return;
  const { inWindow } = await import('../../domain/window.js');
  if (inWindow(w, new Date(conn.clock.now()))) return;
  const { outsideWindowError, waitForWindow } = await import('../../upgrade/policy/window-gate.js');
  if (!wait) throw outsideWindowError(w, new Date(conn.clock.now()), verb);
  await waitForWindow(w, conn.clock, { heartbeat: (m) => quiet || process.stderr.write(`${m}\n`) });
  if (!quiet) process.stderr.write('The maintenance window is open: going on.\n');
}

/**
 * Who confirms the canary when the plan asks (a canary without --canary-soak): --yes answers
 * it, a terminal is asked; without either the run is refused before it starts.
 */
export function canaryConfirmation(plan: UpgradePlan, yes: boolean): Pick<RunPolicyOptions, 'confirm' | 'confirmedBy'> {
  const step = planSteps(plan).find((s) => s.soak?.confirm);
  if (!step) return {};
  if (yes) return { confirm: async () => true, confirmedBy: 'confirmed by --yes' };
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw new UsageError(`the canary ${step.node} needs a confirmation on a terminal before the rest go, and this is not one`, {
      hint: `let it prove itself instead: --canary-soak 10m (or upgrade.canarySoak), or pass --yes to go on without asking`,
    });
  return { confirm: (q) => confirm(q, { input: process.stdin, output: process.stderr }), confirmedBy: 'confirmed on the terminal' };
}

/** What the run applies between nodes beyond the plan (the confirmation). */
export interface RunPolicyOptions {
  order: string;
  allowSkew: boolean;
  confirm?: (question: string) => Promise<boolean>;
  confirmedBy?: string;
}

/** First Ctrl-C: stop after the node in flight. Second: abort the step in flight (the guard owns the signals). */
export async function runWithSignals(
  conn: ClusterConnection,
  plan: UpgradePlan,
  {
    g,
    policy,
    resumes,
    forceTakeover,
    engine = 'ssh',
  }: {
    g: GlobalOptions;
    policy: RunPolicyOptions;
    /** The run this one continues (`resume`). */
    resumes?: RunSummary | undefined;
    forceTakeover?: boolean | undefined;
    engine?: Engine | undefined;
  },
): Promise<ExecuteResult> {
  const shown: Progress =
    !g.quiet && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 && (process.stderr.rows ?? 0) > 0 && g.output === 'table'
      ? await ttyProgress(plan, process.stderr)
      : plainProgress((s) => process.stderr.write(s));
  const progress = g.quiet ? quietProgress(shown) : shown;
  // A step that runs long says so every 30 s (plain output) and keeps the live list moving.
  const heartbeats = withHeartbeats((e) => progress.emit(e));
  // The plan's concurrency may be below what was asked (one schedulable worker must stay up).
  const lowered = parallelWarning(plan, conn.inventory.upgrade.parallel);
  if (lowered) progress.emit({ kind: 'log', level: 'warn', message: lowered });
  try {
    const execute =
      engine === 'suc'
        ? (await import('../../upgrade/suc/engine.js')).executeSucUpgrade
        : (await import('../../upgrade/run/upgrade-run.js')).executeUpgrade;
    if (engine === 'suc')
      progress.emit({
        kind: 'log',
        level: 'info',
        message: 'engine: system-upgrade-controller does the node work; pve-k3s watches and gates each node',
      });
    const result = await execute(conn, plan, {
      env: process.env,
      emit: heartbeats.emit,
      order: policy.order,
      allowSkew: policy.allowSkew,
      ...(policy.confirm ? { confirm: policy.confirm } : {}),
      ...(policy.confirmedBy ? { confirmedBy: policy.confirmedBy } : {}),
      snapshot: { enabled: conn.inventory.upgrade.snapshot, retention: conn.inventory.upgrade.snapshotRetention },
      ...(resumes ? { resumes } : {}),
      ...(forceTakeover ? { forceTakeover } : {}),
      guard: {
        log: (message) =>
          progress.emit({
            kind: 'log',
            level: message.startsWith('warning: ') ? 'warn' : 'info',
            message: message.replace(/^warning: /, ''),
          }),
        signals: {
          onStop: (sig) =>
            progress.emit({
              kind: 'log',
              level: 'warn',
              message: `${sig}: stopping after the current node (press Ctrl-C again to abort the step in flight now)`,
            }),
        },
      },
    });
    return result;
  } finally {
    heartbeats.stop();
    progress.stop();
  }
}
