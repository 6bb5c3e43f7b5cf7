/**
 * How many workers of each phase go at once (pure): `--parallel` (upgrade.parallel) capped so
 * one schedulable worker always stays up to take the pods, and never more than the phase has
 * workers; servers always go alone.
 */
import type { NodePlan, Phase, UpgradePlan } from '../../domain/plan.js';

/** Sets each phase's concurrency: workers in a sliding window of `parallel`, capped. */
export function setPhaseConcurrency(phases: readonly Phase[], nodes: readonly NodePlan[], parallel: number): void {
  // Workers in a sliding window of `width`; a phase never runs more at once than it has workers.
  const width = workerConcurrency(parallel, schedulableWorkers(nodes));
  for (const p of phases)
    p.concurrency = Math.min(width, Math.max(1, new Set(p.steps.filter((s) => s.role === 'agent').map((s) => s.node)).size));
}

/** Workers that can take pods during the run: every agent but those that stay cordoned. */
function schedulableWorkers(nodes: readonly NodePlan[]): number {
  return nodes.filter((n) => n.role === 'agent' && !n.staysCordoned).length;
}

/** --parallel capped so at least one schedulable worker stays up to take the pods. */
function workerConcurrency(requested: number, schedulable: number): number {
  return Math.max(1, Math.min(Math.floor(requested), Math.max(1, schedulable - 1)));
}

/** Why the plan upgrades fewer workers at once than `requested` (--parallel, upgrade.parallel), or undefined. */
export function parallelWarning(plan: UpgradePlan, requested: number): string | undefined {
  const schedulable = schedulableWorkers(plan.nodes);
  const width = workerConcurrency(requested, schedulable);
  if (width >= requested) return undefined;
  return `--parallel ${requested} lowered to ${width}: ${schedulable} schedulable worker(s), and one must stay up to take the pods`;
}
