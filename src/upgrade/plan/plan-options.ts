/** What a plan is asked for: the policy, the releases it may step through, the target. */
import type { K3sVersion } from '../../domain/version.js';
import type { ReleaseIndex as ChannelSet } from '../../domain/release-index.js';
import type { UpgradeOrder } from '../../domain/roles.js';
import type { NodeSelection } from '../../domain/policy.js';

export interface PlanPolicy {
  /** @default "auto" */
  order: UpgradeOrder;
  /** @default false */
  allowSkew: boolean;
  /** @default "auto" */
  drainServers: 'auto' | 'always' | 'never';
  /** Workers upgraded at once (upgrade.parallel, --parallel), capped so one schedulable worker stays up. @default 1 */
  parallel?: number;
  /** Which nodes the plan may touch. @default every node */
  selection?: NodeSelection | undefined;
  /** The node upgraded first (alone) in its first phase. @default none */
  canary?: string | undefined;
  /** Seconds the canary must stay healthy before the rest; undefined = confirmation on the terminal. @default none */
  canarySoakSeconds?: number | undefined;
  /** Seconds each node must stay healthy before the next one starts (a `soak` step between nodes). @default none */
  soakSeconds?: number | undefined;
}

export const DEFAULT_POLICY: PlanPolicy = { order: 'auto', allowSkew: false, drainServers: 'auto', parallel: 1 };

/** The policy, and the releases a cluster more than one minor behind steps through. */
export interface PlanOptions extends PlanPolicy {
  /** The channel server's releases (the latest of each minor). @default none: a plan that must skip a minor is refused */
  channels?: ChannelSet | undefined;
}

export interface PlanTarget {
  version: K3sVersion;
  /** How it was chosen, for output: `channel stable`, `pinned`. */
  source: string;
}
