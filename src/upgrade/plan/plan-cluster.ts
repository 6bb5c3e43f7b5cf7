/** gatherFacts + resolveTarget + planUpgrade: the read-only half of an upgrade. */
import { PlanError } from '../../domain/errors.js';
import type { ClusterFacts } from '../../domain/facts.js';
import { planUpgrade, type PlanPolicy } from './planner.js';
import type { UpgradePlan } from '../../domain/plan.js';
import { gatherFacts } from '../facts/gather.js';
import { withRelocations } from '../facts/locate.js';
import type { UpgradeOrder } from '../../inventory/types.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { resolveTarget, type ResolvedTarget } from './target.js';

export interface PlanFlags {
  version?: string | undefined;
  channel?: string | undefined;
  order?: UpgradeOrder | undefined;
  allowSkew?: boolean | undefined;
  /** Nodes an interrupted run left unconfirmed (ClusterFacts.unconfirmed). */
  unconfirmed?: string[] | undefined;
}

export interface ClusterPlan {
  facts: ClusterFacts;
  resolved: ResolvedTarget;
  plan: UpgradePlan;
}

export function policyFor(conn: ClusterConnection, flags: PlanFlags): PlanPolicy {
  const u = conn.inventory.upgrade;
  return { order: flags.order ?? u.order, allowSkew: flags.allowSkew ?? u.allowSkew, drainServers: u.drainServers, parallel: u.parallel };
}

/** Facts and target at the same time, then the plan: what `pve-k3s plan` shows. */
export async function planCluster(conn: ClusterConnection, flags: PlanFlags, signal?: AbortSignal): Promise<ClusterPlan> {
  const inv = conn.inventory;
  // The channel server and the hosts are independent: ask them at the same time.
  const [resolved, facts] = await Promise.all([
    resolveTarget(
      {
        version: flags.version ?? (flags.channel ? undefined : inv.k3s.version),
        channel: flags.channel ?? inv.k3s.channel,
        channelUrl: conn.channelUrl,
      },
      signal,
    ),
    gatherFacts(inv, conn.shells, signal ? { signal } : {}),
  ]);
  // Migrated containers: later steps (the controller's kubectl, snapshots) use their real host.
  if (facts.relocated) conn.inventory = withRelocations(inv, facts.relocated);
  if (flags.unconfirmed) facts.unconfirmed = flags.unconfirmed;
  const policy = policyFor(conn, flags);
  let plan: UpgradePlan;
  try {
    plan = planUpgrade(facts, resolved.target, policy, resolved.channels);
  } catch (err) {
    // A pinned target more than one minor ahead needs the v1.NN channels: fetch them once.
    if (!(err instanceof PlanError && err.reason === 'no-intermediate-release' && resolved.channels === undefined)) throw err;
    resolved.channels = await resolved.loadChannels();
    plan = planUpgrade(facts, resolved.target, policy, resolved.channels);
  }
  return { facts, resolved, plan };
}
