/** The upgrade plan: data, versioned, written by `plan -o json` and runnable by `upgrade --plan`. */
import type { Role } from './roles.js';

export const PLAN_API_VERSION = 'pve-k3s.io/v1';

export type StepKind = 'drain' | 'install' | 'restart' | 'wait-ready' | 'uncordon';

export interface Step {
  /** Stable id: `<phase>/<node>/<kind>`, e.g. `1/k3s-worker-1/drain`. */
  id: string;
  kind: StepKind;
  node: string;
  vmid: number;
  host: string;
  role: Role;
  /** The version this step works towards (install/restart/wait-ready), or the target. */
  version: string;
  /** The version the node ran before this phase (install/restart only). */
  from?: string;
}

export type PhaseOrder = 'workers-first' | 'servers-first';

export interface Phase {
  /** The version every node reaches at the end of the phase. */
  version: string;
  /** True when some node changes minor version in this phase. */
  minor: boolean;
  order: PhaseOrder;
  /**
   * How many of the phase's workers are upgraded at once, in a sliding window (the next starts
   * as soon as one is done). Servers always go one at a time. Absent in plans written before it
   * existed, which ran one worker at a time.
   */
  concurrency: number;
  steps: Step[];
}

export type NodeAction = 'upgrade' | 'restart' | 'uncordon' | 'none';

export interface NodePlan {
  node: string;
  role: Role;
  host: string;
  vmid: number;
  from: string;
  to: string;
  action: NodeAction;
  /** The node was cordoned before the run by someone else: it is drained but stays cordoned. */
  staysCordoned: boolean;
}

export interface UpgradePlan {
  apiVersion: typeof PLAN_API_VERSION;
  kind: 'UpgradePlan';
  cluster: string;
  controller: string;
  target: { version: string; source: string };
  phases: Phase[];
  nodes: NodePlan[];
  warnings: string[];
}

export function planSteps(plan: UpgradePlan): Step[] {
  return plan.phases.flatMap((p) => p.steps);
}
