/**
 * The `soak` step: the node just upgraded must stay healthy (Ready, no pod on it restarting)
 * for the soak's length before the next node starts; after a canary without a soak of its own,
 * the operator is asked on the terminal. A node that goes bad fails the step (the run stops,
 * the node is left unconfirmed, so `resume` checks it first); a "no" stops the run cleanly.
 */
import { RunError } from '../../domain/errors.js';
import { humanDuration } from '../../domain/duration.js';
import type { Step } from '../../domain/plan.js';
import { watchHealth } from '../policy/health-watch.js';
import type { RunDeps, RunState } from './context.js';

/** The run was stopped on purpose by a policy (canary not confirmed, window closed, gate timed out): resumable. */
export class PolicyStop extends RunError {}

/** What a soak uses, whichever engine runs it. */
export type SoakDeps = Pick<RunDeps, 'kube' | 'clock' | 'signal' | 'emit' | 'soakPollMs' | 'confirm' | 'confirmedBy'>;

export async function soak(step: Step, deps: SoakDeps, state: Pick<RunState, 'unverified'>): Promise<string | undefined> {
  const spec = step.soak ?? { seconds: 0, confirm: false, reason: 'between-nodes' as const };
  const notes: string[] = [];
  if (spec.seconds > 0) {
    const started = deps.clock.now();
    const r = await watchHealth(step.node, deps, {
      seconds: spec.seconds,
      pollMs: deps.soakPollMs,
      onLook: (healthyMs) =>
        deps.emit({
          kind: 'wait',
          step,
          message: `soaking: healthy for ${humanDuration(healthyMs)} of ${humanDuration(spec.seconds * 1000)}`,
          elapsedMs: deps.clock.now() - started,
        }),
    });
    if (!r.healthy) {
      state.unverified.add(step.node);
      throw new RunError(`${step.node} went bad during its soak after ${humanDuration(r.afterMs)}: ${r.why}`, {
        node: step.node,
        step: step.id,
        hint: `no further node was started; look at ${step.node} (kubectl describe node ${step.node}, its pods' logs), then \`pve-k3s resume\` checks it again before going on`,
      });
    }
    notes.push(`healthy for ${humanDuration(spec.seconds * 1000)}`);
  }
  if (spec.confirm) {
    const ask = deps.confirm;
    const question = `Canary ${step.node} is upgraded and healthy. Go on with the rest of the upgrade? [y/N] `;
    const yes = ask ? await ask(question) : false;
    if (!yes)
      throw new PolicyStop(`the canary ${step.node} was not confirmed: stopped before the other nodes`, {
        node: step.node,
        step: step.id,
        hint: `${step.node} stays upgraded; \`pve-k3s resume\` goes on with the rest (running it is the confirmation), \`pve-k3s abandon\` forgets the run`,
      });
    notes.push(deps.confirmedBy ?? 'confirmed');
  }
  return notes.join(', ') || undefined;
}
