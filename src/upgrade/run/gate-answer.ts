/**
 * What a failed kubectl of a health gate means for the wait (pure): still waiting (the wait
 * ran out of its chunk), worth asking again (the API refuses or is unreachable while a server
 * restarts), or a permanent answer that no retry can change (an unknown flag, Forbidden, a
 * node that is not in the cluster any more): the gate then fails at once, in kubectl's words,
 * instead of retrying for the whole readyTimeout.
 */
import { RunError, type KubeError } from '../../domain/errors.js';
import type { Step } from '../../domain/plan.js';
import { kubeError, type KubectlSite } from '../../kube/kube-error.js';

export type GateAnswer = { kind: 'waiting' } | { kind: 'retry'; last: string } | { kind: 'fail'; error: RunError };

export interface GateAnswerOptions {
  /**
   * The node may not be registered yet (install and join: a new node appears once its agent
   * starts), so a NotFound of the node itself is waited for. @default false: during an upgrade
   * the node existed before its install, and a NotFound means it was removed.
   */
  nodeMayBeNew?: boolean;
}

/** What kubectl's answer `r` to `args`, run at `site`, means for `step`'s gate. */
export function gateAnswer(
  step: Step,
  { args, r, site }: { args: readonly string[]; r: { code: number; stdout: string; stderr: string }; site: KubectlSite },
  o: GateAnswerOptions = {},
): GateAnswer {
  const err = kubeError(args, r, site);
  if (err.reason === 'timeout') return { kind: 'waiting' };
  const ofNode = err.reason === 'not-found' && new RegExp(`nodes? "?${escape(step.node)}"? not found`).test(err.kubectl);
  if (ofNode && o.nodeMayBeNew) return { kind: 'retry', last: 'not registered in the cluster' };
  if (err.permanent) return { kind: 'fail', error: gateFailed(step, err, ofNode) };
  return { kind: 'retry', last: `API not answering (${err.kubectl})` };
}

/** The step's error for a permanent kubectl answer: kubectl's words, and what to do. */
export function gateFailed(step: Step, err: KubeError, nodeGone = false): RunError {
  return new RunError(`the health gate of ${step.node} cannot pass: ${err.message}`, {
    node: step.node,
    step: step.id,
    hint: nodeGone
      ? `${step.node} is not in the cluster any more (deleted while it upgraded?): check kubectl get nodes; add it again with pve-k3s join ${step.node}, then run pve-k3s resume`
      : err.hint,
    detail: err.detail,
    cause: err,
  });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
