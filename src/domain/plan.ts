/** The upgrade plan: data, versioned, written by `plan -o json` and runnable by `upgrade --plan`. */
import type { Role } from './roles.js';
import type { HoldReason, PreflightReport, RunPolicy } from './policy.js';

/**
 * The plan document's version. v2 (issue 16) added `held`, `preflight` and `policy` and the
 * per-node `held` reason; a v1 plan file is refused by `upgrade --plan` with a hint to save it
 * again, since it says nothing of the policy it was reviewed with.
 */
export const PLAN_API_VERSION = 'pve-k3s.io/v2';
/** Plan documents written by earlier versions (recognised, to say so). */
export const OLDER_PLAN_API_VERSIONS: readonly string[] = ['pve-k3s.io/v1'];

export type StepKind = 'drain' | 'install' | 'restart' | 'wait-ready' | 'uncordon' | 'soak';

/** A soak step: the node must stay healthy (Ready, no restarting pods on it) this long, then, for a canary, be confirmed. */
export interface SoakSpec {
  /** How long the node is watched, seconds (0: not watched). */
  seconds: number;
  /** Ask on the terminal before the rest go (a canary without --canary-soak); `--yes` answers it. */
  confirm: boolean;
  /** The canary's soak (`--canary-soak`, or the confirmation), or the soak between nodes (`--soak`). */
  reason: 'canary' | 'between-nodes';
}

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
  /** What a `soak` step waits for. */
  soak?: SoakSpec;
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
  /** Why the node is held back from this run (`upgrade: false`, --exclude, not named by --node). */
  held?: HoldReason;
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
  /** What the preflight checks found (absent when they were not run, e.g. a plan made by the library alone). */
  preflight?: PreflightReport;
  /** Canary, soak, window, gates and notifications the run applies. */
  policy?: RunPolicy;
}

export function planSteps(plan: UpgradePlan): Step[] {
  return plan.phases.flatMap((p) => p.steps);
}
