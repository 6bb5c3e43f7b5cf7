/**
 * The planner: ClusterFacts + target + policy -> an ordered, deterministic UpgradePlan.
 * Pure and synchronous; every refusal is a PlanError that names the node and says what to do.
 * Rules (README.md, "What `upgrade` does"): only nodes that differ from the target are touched;
 * patch upgrades go workers first (the users' process), minor upgrades servers first; a plan
 * that would make a kubelet newer than an apiserver is refused unless allowSkew; a cluster
 * more than one minor behind steps through the latest release of each v1.NN channel;
 * servers go one at a time; downgrades are refused.
 * Node selection (--node, --exclude, `upgrade: false`): held nodes get no step and keep their
 * version; a selection that would break the skew rules against a held node is refused, naming
 * the nodes that must come along. A canary goes first in its first phase, alone.
 * This file puts the plan together; each concern has its file: selection.ts (held nodes, the
 * canary's name, refusing a selection), node-checks.ts, minor-steps.ts (minor by minor),
 * phases.ts (order, steps, the simulated cluster), skew.ts, resume-phases.ts (phase 0),
 * soak-steps.ts, concurrency.ts.
 */
import { PlanError } from '../../domain/errors.js';
import type { ClusterFacts } from '../../domain/facts.js';
import type { ReleaseIndex as ChannelSet } from '../../domain/release-index.js';
import { PLAN_API_VERSION, type NodePlan, type UpgradePlan } from '../../domain/plan.js';
import type { HoldReason, RunPolicy } from '../../domain/policy.js';
import { addSoakSteps } from './soak-steps.js';
import { DEFAULT_POLICY, type PlanOptions, type PlanPolicy, type PlanTarget } from './plan-options.js';
import { checkCanaryName, heldCulprits, resolveSelection, selectionError } from './selection.js';
import { checkNodes } from './node-checks.js';
import { stepVersions } from './minor-steps.js';
import { versionPhases } from './phases.js';
import { addResumePhases } from './resume-phases.js';
import { setPhaseConcurrency } from './concurrency.js';
import type { Violation } from './skew.js';

export { DEFAULT_POLICY, type PlanOptions, type PlanPolicy, type PlanTarget } from './plan-options.js';
export { HOLD_WORDS } from './selection.js';
export { parallelWarning } from './concurrency.js';

/** What one plan is made from. */
interface PlanInput {
  facts: ClusterFacts;
  target: PlanTarget;
  policy: PlanPolicy;
  channels: ChannelSet | undefined;
}

export function planUpgrade(facts: ClusterFacts, target: PlanTarget, options: PlanOptions = DEFAULT_POLICY): UpgradePlan {
  const { channels, ...policy } = options;
  const input: PlanInput = { facts, target, policy, channels };
  const held = resolveSelection(facts, policy.selection);
  if (policy.canary !== undefined) checkCanaryName(facts, policy.canary, held);
  const built = build(input, held);
  if (built.skew.length > 0 && !policy.allowSkew) {
    const culprits = heldCulprits(built.skew, held);
    if (culprits.length > 0) throw selectionError(facts, { held, skew: built.skew }, (still) => build(input, still).skew);
    if (policy.canary !== undefined && build({ ...input, policy: { ...policy, canary: undefined } }, held).skew.length === 0) {
      throw new PlanError(`--canary ${policy.canary} cannot go first: ${built.skew[0]!.line}`, {
        reason: 'canary',
        node: policy.canary,
        hint: 'a minor upgrade goes servers first (a kubelet is never newer than its apiserver): choose a server as the canary, or no canary',
      });
    }
    throw new PlanError(`refusing a plan that breaks the Kubernetes version skew policy: ${built.skew[0]!.line}`, {
      reason: 'skew',
      hint: 'use --order auto (servers first for minor upgrades), or --allow-skew if you accept the risk',
      detail: built.skew.map((v) => v.line).join('\n'),
    });
  }
  for (const v of built.skew) built.warnings.push(`version skew allowed by --allow-skew: ${v.line}`);
  return built.plan;
}

interface Built {
  plan: UpgradePlan;
  warnings: string[];
  skew: Violation[];
}

/** The plan for one selection, with the skew violations it would introduce (not yet refused). */
function build(input: PlanInput, held: ReadonlyMap<string, HoldReason>): Built {
  const { facts, target, policy, channels } = input;
  const T = target.version;
  const { nodes, warnings } = checkNodes(facts, T, held);
  const servers = nodes.filter((n) => n.f.role === 'server');
  const agents = nodes.filter((n) => n.f.role === 'agent');
  if (servers.length === 0) {
    throw new PlanError('the inventory has no server node', { reason: 'no-server', hint: 'mark at least one node `role: server`' });
  }
  const moving = nodes.filter((n) => !held.has(n.f.name));
  const phaseVersions = stepVersions(moving, T, channels);
  const walked = versionPhases(
    { nodes, servers, agents, held, controller: facts.controller },
    { versions: phaseVersions, policy },
    warnings,
  );
  const { phases, finalAction, canaryPlaced, skew } = walked;
  if (policy.canary !== undefined && !canaryPlaced)
    warnings.push(`the canary ${policy.canary} has nothing to do in this plan (already at ${T.raw}): no canary this run`);
  addResumePhases(walked, { nodes, held, unconfirmed: facts.unconfirmed }, { version: T, warnings });
  addSoakSteps(phases, {
    soakSeconds: policy.soakSeconds,
    canary: canaryPlaced ? policy.canary : undefined,
    canarySoakSeconds: policy.canarySoakSeconds,
  });

  const listed = new Map(nodes.map((n) => [n.f.name, n] as const));
  // Every node of the facts: a held node that could not be checked is listed with what is known.
  const nodePlans = facts.nodes.flatMap((f): NodePlan[] => {
    const n = listed.get(f.name);
    const why = held.get(f.name);
    if (!n && why === undefined) return [];
    const v = n?.v.raw ?? f.installed?.raw ?? 'unknown';
    return [
      {
        node: f.name,
        role: f.role,
        host: f.host,
        vmid: f.vmid,
        from: v,
        to: finalAction.has(f.name) ? T.raw : v,
        action: finalAction.get(f.name) ?? 'none',
        staysCordoned: (n?.staysCordoned ?? false) && finalAction.get(f.name) === 'upgrade',
        ...(why !== undefined ? { held: why } : {}),
      },
    ];
  });
  setPhaseConcurrency(phases, nodePlans, policy.parallel ?? 1);
  const plan: UpgradePlan = {
    apiVersion: PLAN_API_VERSION,
    kind: 'UpgradePlan',
    cluster: facts.cluster,
    controller: facts.controller,
    target: { version: T.raw, source: target.source },
    phases,
    nodes: nodePlans,
    warnings,
    ...runPolicy(policy, canaryPlaced),
  };
  return { plan, warnings, skew };
}

/** The canary and soak the plan records (the window, gates and notifications are added by the caller). */
function runPolicy(policy: PlanPolicy, canaryPlaced: boolean): { policy?: RunPolicy } {
  const out: RunPolicy = {};
  if (canaryPlaced && policy.canary !== undefined)
    out.canary = { node: policy.canary, ...(policy.canarySoakSeconds !== undefined ? { soakSeconds: policy.canarySoakSeconds } : {}) };
  if (policy.soakSeconds) out.soakSeconds = policy.soakSeconds;
  return Object.keys(out).length > 0 ? { policy: out } : {};
}
