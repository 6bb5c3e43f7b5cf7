/** gatherFacts + resolveTarget + planUpgrade + the preflight: the read-only half of an upgrade. */
import { invariant, PlanError, PveK3sError } from '../../domain/errors.js';
import type { ClusterFacts } from '../../domain/facts.js';
import { planUpgrade, type PlanPolicy } from './planner.js';
import type { UpgradePlan } from '../../domain/plan.js';
import type { PreflightReport } from '../../domain/policy.js';
import { gatherFacts, type ControllerReads } from '../facts/gather.js';
import { withRelocations } from '../facts/locate.js';
import type { UpgradeOrder, UpgradePolicy } from '../../inventory/types.js';
import type { RunPolicy } from '../../domain/policy.js';
import { urlOrigin } from '../policy/gates.js';
import { describeTarget, parseNotifyTarget } from '../policy/notify.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { probePolicy, type PolicyProbe } from '../policy/probe.js';
import { runPreflight, type PreflightOutcome } from '../policy/preflight.js';
import type { IssueFix } from '../policy/known-issues/index.js';
import { afterProbeSpawns, resolveTarget, type ResolvedTarget } from './target.js';
import { combineShells } from '../../proxmox/combine.js';

export interface PlanFlags {
  version?: string | undefined;
  channel?: string | undefined;
  order?: UpgradeOrder | undefined;
  allowSkew?: boolean | undefined;
  /** --node: only these nodes (repeatable). */
  nodes?: readonly string[] | undefined;
  /** --exclude: never these nodes. */
  exclude?: readonly string[] | undefined;
  /** --canary (over upgrade.canary). */
  canary?: string | undefined;
  /** --canary-soak in seconds (over upgrade.canarySoak). */
  canarySoakSeconds?: number | undefined;
  /** --soak in seconds (over upgrade.soak). */
  soakSeconds?: number | undefined;
  /** Check ids --ignore-preflight names (already parsed). */
  ignorePreflight?: readonly string[] | undefined;
  /** Run the preflight checks (one more round trip per host, at the same time as the facts). @default true */
  preflight?: boolean | undefined;
  /** Nodes an interrupted run left unconfirmed (ClusterFacts.unconfirmed). */
  unconfirmed?: string[] | undefined;
  /** kubectl reads for the facts probe's request to the controller (GatherOptions.controllerReads). */
  controllerReads?: ControllerReads | undefined;
}

export interface ClusterPlan {
  facts: ClusterFacts;
  resolved: ResolvedTarget;
  plan: UpgradePlan;
  /** The fixes `--fix` could apply for what the preflight found. */
  fixes: IssueFix[];
}

export function policyFor(conn: ClusterConnection, flags: PlanFlags): PlanPolicy {
  const inv = conn.inventory;
  const u = inv.upgrade;
  const held = inv.nodes.filter((n) => n.upgrade === false).map((n) => n.name);
  return {
    order: flags.order ?? u.order,
    allowSkew: flags.allowSkew ?? u.allowSkew,
    drainServers: u.drainServers,
    parallel: u.parallel,
    selection: { only: flags.nodes?.length ? flags.nodes : undefined, exclude: flags.exclude, held },
    canary: flags.canary ?? u.canary,
    canarySoakSeconds: flags.canarySoakSeconds ?? u.canarySoakSeconds,
    soakSeconds: flags.soakSeconds ?? u.soakSeconds,
  };
}

export interface PreflightRun {
  facts: ClusterFacts;
  resolved: ResolvedTarget | undefined;
  plan: UpgradePlan | undefined;
  /** Why there is no plan (the planner refused, or the target could not be resolved). */
  planError: PveK3sError | undefined;
  probe: PolicyProbe | undefined;
  preflight: PreflightOutcome | undefined;
}

/**
 * Facts, target, plan and preflight. The channel server, the facts probe and the policy probe
 * are independent: all three are asked at the same time, the two probes in one request per host.
 * A planner refusal is returned (the preflight reports it), not thrown.
 */
export async function preflightCluster(conn: ClusterConnection, flags: PlanFlags, signal?: AbortSignal): Promise<PreflightRun> {
  const inv = conn.inventory;
  const withPreflight = flags.preflight ?? true;
  // One request per host for both probes (proxmox/combine.ts): each its own script, run side by side there.
  const combined = combineShells(conn.shells);
  const probes = Promise.all([
    gatherFacts(inv, combined.shells, {
      ...(signal ? { signal } : {}),
      ...(flags.controllerReads ? { controllerReads: flags.controllerReads } : {}),
    }),
    withPreflight ? probePolicy(inv, combined.shells, signal ? { signal } : {}) : Promise.resolve(undefined),
  ]);
  probes.catch(() => undefined); // awaited below; a rejection meanwhile is not unhandled
  combined.flush();
  await afterProbeSpawns();
  const target = resolveTarget(
    {
      version: flags.version ?? (flags.channel ? undefined : inv.k3s.version),
      channel: flags.channel ?? inv.k3s.channel,
      channelUrl: conn.channelUrl,
    },
    signal,
  ).catch((err: unknown) => {
    if (err instanceof PveK3sError) return err;
    throw err;
  });
  target.catch(() => undefined);
  const [[facts, probe], resolvedOrError] = await Promise.all([probes, target]);
  // Migrated containers: later steps (the controller's kubectl, snapshots) use their real host.
  if (facts.relocated) conn.inventory = withRelocations(inv, facts.relocated);
  if (flags.unconfirmed) facts.unconfirmed = flags.unconfirmed;
  let plan: UpgradePlan | undefined;
  let planError: PveK3sError | undefined;
  const resolved = resolvedOrError instanceof PveK3sError ? undefined : resolvedOrError;
  if (resolvedOrError instanceof PveK3sError) planError = resolvedOrError;
  else {
    const policy = policyFor(conn, flags);
    try {
      try {
        plan = planUpgrade(facts, resolvedOrError.target, { ...policy, channels: resolvedOrError.channels });
      } catch (err) {
        // A pinned target more than one minor ahead needs the v1.NN channels: fetch them once.
        if (!(err instanceof PlanError && err.reason === 'no-intermediate-release' && resolvedOrError.channels === undefined)) throw err;
        resolvedOrError.channels = await resolvedOrError.loadChannels();
        plan = planUpgrade(facts, resolvedOrError.target, { ...policy, channels: resolvedOrError.channels });
      }
    } catch (err) {
      if (!(err instanceof PveK3sError)) throw err;
      planError = err;
    }
  }
  let preflight: PreflightOutcome | undefined;
  if (probe) {
    const { parse } = await import('yaml');
    preflight = runPreflight({
      inv: conn.inventory,
      facts,
      probe,
      plan,
      planError: planError instanceof PlanError ? planError : undefined,
      target: resolved?.target.version,
      snapshot: conn.inventory.upgrade.snapshot,
      ignore: flags.ignorePreflight ?? [],
      parseYaml: (text) => parse(text) as unknown,
    });
    if (plan) plan.preflight = preflight.report;
  }
  if (plan) recordRunPolicy(plan, inv.upgrade);
  return { facts, resolved, plan, planError, probe, preflight };
}

/** What the run enforces beyond the steps, in the plan document: the window, the gates, the notification targets (never their URLs' secrets). */
export function recordRunPolicy(plan: UpgradePlan, u: UpgradePolicy): void {
  const policy: RunPolicy = { ...plan.policy };
  if (u.window) policy.window = u.window;
  if (u.prometheusUrl || u.blockingPodSelector?.length)
    policy.gates = {
      ...(u.prometheusUrl ? { prometheus: urlOrigin(u.prometheusUrl) } : {}),
      ...(u.alertFilterRegexp ? { alertFilterRegexp: u.alertFilterRegexp } : {}),
      ...(u.alertFiringOnly ? { alertFiringOnly: true } : {}),
      ...(u.alertFilterMatchOnly ? { alertFilterMatchOnly: true } : {}),
      ...(u.blockingPodSelector?.length ? { blockingPodSelector: u.blockingPodSelector } : {}),
      timeoutSeconds: u.gateTimeoutSeconds ?? 3600,
    };
  const notify = (u.notify ?? []).map(parseNotifyTarget).filter((t) => t !== undefined);
  if (notify.length > 0) policy.notify = notify.map(describeTarget);
  if (Object.keys(policy).length > 0) plan.policy = policy;
}

export async function planCluster(conn: ClusterConnection, flags: PlanFlags, signal?: AbortSignal): Promise<ClusterPlan> {
  const r = await preflightCluster(conn, flags, signal);
  if (r.planError) throw r.planError;
  invariant(r.plan !== undefined && r.resolved !== undefined, 'a plan without a planner error');
  return { facts: r.facts, resolved: r.resolved, plan: r.plan, fixes: r.preflight?.fixes ?? [] };
}

/** Refuses to start a run whose preflight failed, naming each failed check and how to go on anyway. */
export function refuseFailedPreflight(report: PreflightReport | undefined): void {
  if (!report || report.ok) return;
  const failed = report.results.filter((r) => r.status === 'fail');
  const ids = [...new Set(failed.map((r) => r.id))];
  const first = failed[0]!;
  throw new PlanError(
    `preflight failed: ${first.id}: ${first.scope}: ${first.message}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`,
    {
      reason: 'preflight',
      hint: `fix ${failed.length > 1 ? 'them' : 'it'} (pve-k3s preflight shows each fix; --fix applies the safe ones), or go on anyway with --ignore-preflight ${ids.join(',')}`,
      detail: failed.map((r) => `- ${r.id} ${r.scope}: ${r.message}${r.fix ? `\n  fix: ${r.fix}` : ''}`).join('\n'),
    },
  );
}
