/** The uncordon step: uncordon, then drop the annotation that said the cordon was ours. */
import { RunError } from '../../domain/errors.js';
import { CORDON_ANNOTATION } from '../../domain/facts.js';
import type { Step } from '../../domain/plan.js';
import { failureReason } from '../../shell/reason.js';
import type { RunResult } from '../../shell/shell.js';
import type { RunDeps, RunState } from './context.js';

/** The kubectl commands of an uncordon (one round trip). */
export function uncordonCommands(node: string): string[][] {
  return [
    ['uncordon', node],
    ['annotate', 'node', node, `${CORDON_ANNOTATION}-`, '--overwrite'],
  ];
}

/**
 * A worker this run cordoned is uncordoned in the round trip of the health gate that lets it
 * (one kubectl batch less on each worker's critical path).
 */
export function uncordonsWithGate(step: Step, deps: RunDeps, state: RunState): boolean {
  return step.role === 'agent' && state.cordoned.has(step.node) && !deps.staysCordoned.has(step.node);
}

/** What an uncordon uses (the runner's deps, or another engine's). */
type UncordonDeps = Pick<RunDeps, 'kube' | 'signal' | 'emit'>;
type UncordonState = Pick<RunState, 'cordoned' | 'uncordoned'>;

/** Applies the results of uncordonCommands; false when the uncordon itself failed. */
export function applyUncordon(
  step: Step,
  { deps, state }: { deps: UncordonDeps; state: UncordonState },
  [r, a]: readonly RunResult[],
): boolean {
  if (!r || r.code !== 0) return false;
  state.uncordoned.add(step.node);
  if (!a) return true;
  if (a.code !== 0)
    deps.emit({
      kind: 'log',
      level: 'warn',
      node: step.node,
      message: `could not remove the ${CORDON_ANNOTATION} annotation: ${failureReason(a)}`,
    });
  state.cordoned.delete(step.node);
  return true;
}

export async function uncordon(step: Step, deps: UncordonDeps, state: UncordonState): Promise<undefined> {
  const results = await deps.kube.batch(uncordonCommands(step.node), { signal: deps.signal, timeoutMs: 60_000 });
  if (!applyUncordon(step, { deps, state }, results)) {
    const r = results[0];
    throw new RunError(`uncordoning ${step.node} failed: ${r ? failureReason(r) : 'no answer'}`, {
      node: step.node,
      step: step.id,
      hint: `run kubectl uncordon ${step.node}`,
      detail: r?.stdout,
    });
  }
  return undefined;
}
