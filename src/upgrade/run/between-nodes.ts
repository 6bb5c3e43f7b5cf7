/**
 * What is checked before each node starts, from the run's policy: the maintenance window
 * (closed: the run stops, resumable in the next window) and the gates (alerts, blocking pods).
 * Built once per run from the inventory's upgrade policy; the runner calls it between nodes.
 */
import type { Step } from '../../domain/plan.js';
import type { UpgradePolicy } from '../../inventory/types.js';
import { windowStop } from '../policy/window-gate.js';
import type { RunDeps } from './context.js';
import type { NodeStop } from './run-plan.js';

export type BeforeNode = (group: readonly Step[], deps: RunDeps) => Promise<NodeStop | undefined>;

/** The checks before each node, or undefined when the policy has none. */
export function beforeEachNode(policy: UpgradePolicy): BeforeNode | undefined {
  const checks: BeforeNode[] = [];
  const w = policy.window;
  if (w) checks.push(async (_group, deps) => windowStop(w, new Date(deps.clock.now())));
  if (checks.length === 0) return undefined;
  return async (group, deps) => {
    for (const check of checks) {
      const stop = await check(group, deps);
      if (stop) return stop;
    }
    return undefined;
  };
}
