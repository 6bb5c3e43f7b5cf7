/**
 * The notifications of one run: run start, each node done or failed (read from the runner's
 * events), and how the run ended. Sends are awaited at the run's end so none is lost when the
 * process exits; a failed delivery is a warning (see policy/notify.ts).
 */
import type { Clock } from '../../domain/clock.js';
import type { Emit } from '../../domain/events.js';
import { planSteps, type UpgradePlan } from '../../domain/plan.js';
import { notifier, parseNotifyTarget, type NotifyEvent, type NotifyTarget } from '../policy/notify.js';
import type { RunPlanResult } from './run-plan.js';

export interface RunNotices {
  start(): Promise<void>;
  /** Wraps the run's emit: node events are noticed as they come. */
  emit: Emit;
  end(result: RunPlanResult): Promise<void>;
}

/** The notices of run `run` of `plan` to `urls` (none: undefined); `emit`: where a failed notice is said. */
export function runNotices(
  plan: UpgradePlan,
  { urls, run, clock, emit }: { urls: readonly string[]; run: string; clock: Clock; emit: Emit },
): RunNotices | undefined {
  const targets = urls.map(parseNotifyTarget).filter((t): t is NotifyTarget => t !== undefined);
  if (targets.length === 0) return undefined;
  const n = notifier(targets, (message) => emit({ kind: 'log', level: 'warn', message }));
  const last = new Map<string, string>();
  for (const s of planSteps(plan)) last.set(s.node, s.id);
  const from = new Map(plan.nodes.map((x) => [x.node, x.from] as const));
  const total = plan.nodes.filter((x) => x.action !== 'none').length;
  const started = clock.now();
  const nodeStart = new Map<string, number>();
  const pending: Promise<void>[] = [];
  let done = 0;
  const base = (): Pick<NotifyEvent, 'cluster' | 'run' | 'target' | 'at' | 'nodesDone' | 'nodesTotal'> => ({
    cluster: plan.cluster,
    run,
    target: plan.target.version,
    at: new Date(clock.now()).toISOString(),
    nodesDone: done,
    nodesTotal: total,
  });
  return {
    start: () => n.send({ ...base(), event: 'run-start' }),
    emit: (e) => {
      emit(e);
      if (e.kind === 'step-start' && !nodeStart.has(e.step.node)) nodeStart.set(e.step.node, clock.now());
      if (e.kind === 'step-done' && last.get(e.step.node) === e.step.id) {
        done++;
        pending.push(
          n.send({
            ...base(),
            event: 'node-done',
            node: e.step.node,
            from: from.get(e.step.node) ?? '',
            to: plan.target.version,
            durationMs: clock.now() - (nodeStart.get(e.step.node) ?? clock.now()),
          }),
        );
      }
      if (e.kind === 'step-failed')
        pending.push(
          n.send({
            ...base(),
            event: 'node-failed',
            node: e.step.node,
            from: from.get(e.step.node) ?? '',
            to: plan.target.version,
            durationMs: clock.now() - (nodeStart.get(e.step.node) ?? clock.now()),
            message: e.error.message,
            ...(e.error.hint ? { fix: e.error.hint } : {}),
          }),
        );
    },
    end: async (r) => {
      await Promise.all(pending);
      const durationMs = clock.now() - started;
      if (r.ok) await n.send({ ...base(), event: 'run-complete', durationMs });
      else if (r.interrupted && (r.stopped || !r.failed))
        await n.send({
          ...base(),
          event: 'run-stopped',
          durationMs,
          message: r.stopped?.message ?? 'interrupted (Ctrl-C or a signal)',
          fix: r.stopped?.hint ?? '`pve-k3s resume` continues it',
        });
      else
        await n.send({
          ...base(),
          event: 'run-failed',
          durationMs,
          message: r.failed ? `${r.failed.step.id}: ${r.failed.error.message}` : 'the run failed',
          fix: r.failed?.error.hint ?? 'see `pve-k3s status`, then `pve-k3s resume`',
        });
    },
  };
}
