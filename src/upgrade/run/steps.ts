/** What each kind of plan step does on the cluster. Every step is safe to run twice. */
import { PveK3sError, RunError } from '../../domain/errors.js';
import type { Step } from '../../domain/plan.js';
import type { RunDeps, RunState } from './context.js';
import { drain } from './drain.js';
import { install, restart } from './install.js';
import { soak } from './soak.js';
import { uncordon } from './uncordon.js';
import { waitReady } from './wait-ready.js';

export { RolledBackError } from './wait-ready.js';

/** Runs one step; returns a note for progress and the journal. */
export async function runStep(step: Step, deps: RunDeps, state: RunState): Promise<string | undefined> {
  switch (step.kind) {
    case 'drain':
      return drain(step, deps, state);
    case 'install':
      return install(step, deps, state);
    case 'restart':
      return restart(step, deps);
    case 'wait-ready':
      return waitReady(step, deps, state);
    case 'uncordon':
      return uncordon(step, deps, state);
    case 'soak':
      return soak(step, deps, state);
  }
}

export function asPveError(err: unknown, step: Step): PveK3sError {
  if (err instanceof PveK3sError) return err;
  return new RunError(`${step.id}: ${err instanceof Error ? err.message : String(err)}`, { node: step.node, step: step.id, cause: err });
}
