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
 */
import { PlanError, type PlanErrorReason } from '../../domain/errors.js';
import type { ClusterFacts, NodeFacts } from '../../domain/facts.js';
import { compareVersions, minorChannel, type K3sVersion } from '../../domain/version.js';
import { type ReleaseIndex as ChannelSet, latestOfMinor } from '../../domain/release-index.js';
import type { UpgradeOrder } from '../../domain/roles.js';
import { PLAN_API_VERSION, type NodePlan, type Phase, type PhaseOrder, type Step, type UpgradePlan } from '../../domain/plan.js';
import type { HoldReason, NodeSelection, RunPolicy } from '../../domain/policy.js';
import { addSoakSteps } from './soak-steps.js';

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

interface Problem {
  reason: PlanErrorReason;
  node: string | undefined;
  message: string;
  hint: string;
}

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
    if (culprits.length > 0) throw selectionError(input, held, built.skew);
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

/** Held nodes and why, from the selection; refuses names the facts do not know. */
function resolveSelection(facts: ClusterFacts, sel: NodeSelection | undefined): Map<string, HoldReason> {
  const held = new Map<string, HoldReason>();
  if (!sel) return held;
  const names = facts.nodes.map((n) => n.name);
  const unknown = [...(sel.only ?? []), ...(sel.exclude ?? [])].filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    throw new PlanError(`no node named ${unknown.map((n) => `"${n}"`).join(', ')} in the inventory`, {
      reason: 'selection',
      hint: `nodes: ${names.join(', ')}`,
    });
  }
  for (const n of names) {
    if (sel.exclude?.includes(n)) held.set(n, 'excluded');
    else if (sel.only !== undefined && !sel.only.includes(n)) held.set(n, 'not-selected');
    else if (sel.held?.includes(n) && !sel.only?.includes(n)) held.set(n, 'inventory');
  }
  if (held.size === names.length) {
    throw new PlanError('the selection leaves no node to upgrade', {
      reason: 'selection',
      hint: 'name a node with --node, or remove --exclude / `upgrade: false` from one',
    });
  }
  return held;
}

function checkCanaryName(facts: ClusterFacts, canary: string, held: ReadonlyMap<string, HoldReason>): void {
  if (!facts.nodes.some((n) => n.name === canary)) {
    throw new PlanError(`--canary: no node named "${canary}" in the inventory`, {
      reason: 'canary',
      hint: `nodes: ${facts.nodes.map((n) => n.name).join(', ')}`,
    });
  }
  const why = held.get(canary);
  if (why !== undefined) {
    throw new PlanError(`--canary ${canary}: that node is held back (${HOLD_WORDS[why]})`, {
      reason: 'canary',
      node: canary,
      hint: 'choose a canary among the nodes this run upgrades',
    });
  }
}

export const HOLD_WORDS: Record<HoldReason, string> = {
  inventory: 'upgrade: false in the inventory',
  excluded: '--exclude',
  'not-selected': 'not named by --node',
};

/** A skew violation the plan would introduce. */
interface Violation {
  line: string;
  /** The nodes the rule is between. */
  nodes: string[];
}

/** Held nodes that take part in a violation: they must come along for the selection to be safe. */
function heldCulprits(skew: readonly Violation[], held: ReadonlyMap<string, HoldReason>): string[] {
  return [...new Set(skew.flatMap((v) => v.nodes.filter((n) => held.has(n))))];
}

/** The refusal of a selection, with every node that must come along (a fixed point: adding some may need others). */
function selectionError(input: PlanInput, held: ReadonlyMap<string, HoldReason>, skew: readonly Violation[]): PlanError {
  const { facts } = input;
  const along: string[] = [];
  let still = new Map(held);
  for (let i = 0; i < facts.nodes.length; i++) {
    const culprits = heldCulprits(i === 0 ? skew : build(input, still).skew, still);
    if (culprits.length === 0) break;
    for (const c of culprits) {
      along.push(c);
      still.delete(c);
    }
    still = new Map(still);
  }
  const flags = along.map((n) => (held.get(n) === 'inventory' ? `drop \`upgrade: false\` from ${n}` : `--node ${n}`));
  return new PlanError(
    `refusing this selection: it breaks the Kubernetes version skew policy: ${skew[0]!.line}; ${along.length === 1 ? 'this node must' : 'these nodes must'} come along: ${along.join(', ')}`,
    {
      reason: 'selection',
      hint: `add them (${[...new Set(flags)].join(', ')}), or --allow-skew if you accept the risk`,
      detail: skew.map((v) => v.line).join('\n'),
    },
  );
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

  // Simulated cluster state while walking the plan: installed and kubelet versions.
  const cur = new Map(nodes.map((n) => [n.f.name, n.v] as const));
  const kubelet = new Map(nodes.map((n) => [n.f.name, n.f.kube?.kubeletVersion ?? n.v] as const));
  const skew: Violation[] = [];
  const initialSkew = findSkew({ servers, agents }, { cur, kubelet });
  for (const v of initialSkew.values())
    warnings.push(`the cluster already breaks the version skew policy: ${v.text.replace(' would be ', ' is ')}`);

  // Servers one at a time, the controller last among them; both groups in inventory order.
  const serverOrder = [...servers.filter((n) => n.f.name !== facts.controller), ...servers.filter((n) => n.f.name === facts.controller)];
  const handled = new Set<string>();
  const phases: Phase[] = [];
  const finalAction = new Map<string, NodePlan['action']>();
  let canaryPlaced = false;

  phaseVersions.forEach((P, pi) => {
    const phaseNo = pi + 1;
    const changes = (n: N) => !held.has(n.f.name) && compareVersions(cur.get(n.f.name)!, P) < 0;
    const restarts = (n: N) =>
      !held.has(n.f.name) && compareVersions(cur.get(n.f.name)!, P) === 0 && !sameVersion(kubelet.get(n.f.name), P);
    const minor = nodes.some((n) => changes(n) && cur.get(n.f.name)!.minor < P.minor);
    const order: PhaseOrder = policy.order === 'auto' ? (minor ? 'servers-first' : 'workers-first') : policy.order;
    let sequence = order === 'servers-first' ? [...serverOrder, ...agents] : [...agents, ...serverOrder];
    // The canary goes first in the first phase that changes it.
    const canary = canaryPlaced ? undefined : sequence.find((n) => n.f.name === policy.canary && (changes(n) || restarts(n)));
    if (canary) {
      sequence = [canary, ...sequence.filter((n) => n !== canary)];
      canaryPlaced = true;
    }
    const steps: Step[] = [];
    for (const n of sequence) {
      const base = { node: n.f.name, vmid: n.f.vmid, host: n.f.host, role: n.f.role, version: P.raw };
      const id = (kind: Step['kind']) => `${phaseNo}/${n.f.name}/${kind}`;
      const from = cur.get(n.f.name)!;
      const cordonedByUs = n.f.kube?.cordonedByUs !== undefined;
      if (changes(n)) {
        const minorChange = from.minor < P.minor;
        const drain = n.f.role === 'agent' || drainServer(policy, { servers: servers.length, agents: agents.length }, minorChange);
        if (drain) steps.push({ ...base, id: id('drain'), kind: 'drain' });
        steps.push({ ...base, id: id('install'), kind: 'install', from: from.raw });
        steps.push({ ...base, id: id('wait-ready'), kind: 'wait-ready' });
        if ((drain && !n.staysCordoned) || cordonedByUs) steps.push({ ...base, id: id('uncordon'), kind: 'uncordon' });
        finalAction.set(n.f.name, 'upgrade');
      } else if (restarts(n)) {
        steps.push({ ...base, id: id('restart'), kind: 'restart', from: kubelet.get(n.f.name)?.raw ?? 'unknown' });
        steps.push({ ...base, id: id('wait-ready'), kind: 'wait-ready' });
        if (cordonedByUs) steps.push({ ...base, id: id('uncordon'), kind: 'uncordon' });
        if (finalAction.get(n.f.name) !== 'upgrade') finalAction.set(n.f.name, 'restart');
      } else {
        continue;
      }
      handled.add(n.f.name);
      cur.set(n.f.name, P);
      kubelet.set(n.f.name, P);
      for (const [key, v] of findSkew({ servers, agents }, { cur, kubelet })) {
        const line = `after upgrading ${n.f.name}, ${v.text}`;
        if (!initialSkew.has(key) && !skew.some((s) => s.line.endsWith(v.text))) skew.push({ line, nodes: v.nodes });
      }
    }
    if (steps.length > 0) phases.push({ version: P.raw, minor, order, concurrency: 1, steps });
  });
  if (policy.canary !== undefined && !canaryPlaced)
    warnings.push(`the canary ${policy.canary} has nothing to do in this plan (already at ${T.raw}): no canary this run`);

  // A node left cordoned by an interrupted run and already at the target: wait Ready, uncordon.
  const leftovers: Step[] = [];
  for (const n of nodes) {
    if (handled.has(n.f.name) || n.f.kube?.cordonedByUs === undefined) continue;
    const why = held.get(n.f.name);
    if (why !== undefined) {
      warnings.push(`${n.f.name} is still cordoned by an earlier pve-k3s run and is held back (${HOLD_WORDS[why]}): uncordon it by hand`);
      continue;
    }
    const base = { node: n.f.name, vmid: n.f.vmid, host: n.f.host, role: n.f.role, version: T.raw };
    leftovers.push({ ...base, id: `0/${n.f.name}/wait-ready`, kind: 'wait-ready' });
    leftovers.push({ ...base, id: `0/${n.f.name}/uncordon`, kind: 'uncordon' });
    finalAction.set(n.f.name, 'uncordon');
  }
  if (leftovers.length > 0) {
    phases.unshift({ version: T.raw, minor: false, order: 'workers-first', concurrency: 1, steps: leftovers });
  }
  // A node an interrupted run left unconfirmed and otherwise done: its health gate first.
  const planned = new Set(phases.flatMap((p) => p.steps.map((s) => s.node)));
  const rechecks: Step[] = [];
  for (const name of new Set(facts.unconfirmed ?? [])) {
    const n = nodes.find((x) => x.f.name === name);
    if (!n || planned.has(name) || held.has(name)) continue;
    const base = { node: name, vmid: n.f.vmid, host: n.f.host, role: n.f.role, version: T.raw };
    rechecks.push({ ...base, id: `0/${name}/wait-ready`, kind: 'wait-ready' });
  }
  if (rechecks.length > 0) phases.unshift({ version: T.raw, minor: false, order: 'workers-first', concurrency: 1, steps: rechecks });
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
  // Workers in a sliding window of `width`; a phase never runs more at once than it has workers.
  const width = workerConcurrency(policy.parallel ?? 1, schedulableWorkers(nodePlans));
  for (const p of phases)
    p.concurrency = Math.min(width, Math.max(1, new Set(p.steps.filter((s) => s.role === 'agent').map((s) => s.node)).size));
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

/** Workers that can take pods during the run: every agent but those that stay cordoned. */
function schedulableWorkers(nodes: readonly NodePlan[]): number {
  return nodes.filter((n) => n.role === 'agent' && !n.staysCordoned).length;
}

/** --parallel capped so at least one schedulable worker stays up to take the pods. */
function workerConcurrency(requested: number, schedulable: number): number {
  return Math.max(1, Math.min(Math.floor(requested), Math.max(1, schedulable - 1)));
}

/** Why the plan upgrades fewer workers at once than `requested` (--parallel, upgrade.parallel), or undefined. */
export function parallelWarning(plan: UpgradePlan, requested: number): string | undefined {
  const schedulable = schedulableWorkers(plan.nodes);
  const width = workerConcurrency(requested, schedulable);
  if (width >= requested) return undefined;
  return `--parallel ${requested} lowered to ${width}: ${schedulable} schedulable worker(s), and one must stay up to take the pods`;
}

/** A node with a known installed version. */
interface N {
  f: NodeFacts;
  v: K3sVersion;
  /** Cordoned before the run by someone else: drained, but left cordoned afterwards. */
  staysCordoned: boolean;
}

/** The nodes the plan can work with, and what is only worth a warning; refuses what stops the upgrade. */
function checkNodes(facts: ClusterFacts, T: K3sVersion, held: ReadonlyMap<string, HoldReason>): { nodes: N[]; warnings: string[] } {
  const warnings: string[] = [];
  const problems: Problem[] = [];
  // A held node is not touched: what would stop its upgrade is only worth a warning.
  const problem = (p: Problem): void => {
    const why = p.node === undefined ? undefined : held.get(p.node);
    if (why === undefined) problems.push(p);
    else warnings.push(`${p.message} (held back by ${HOLD_WORDS[why]}: not upgraded, and the skew rules could not check it)`);
  };
  if (facts.kubeError !== undefined) {
    problems.push({
      reason: 'version-unknown',
      node: facts.controller,
      message: `cannot read the cluster's nodes from the controller ${facts.controller}: ${facts.kubeError}`,
      hint: `check that k3s runs in ${facts.controller} (pve-k3s status), or set \`controller:\` to another server`,
    });
  }
  for (const [host, err] of Object.entries(facts.hostErrors)) {
    problems.push({
      reason: 'version-unknown',
      node: undefined,
      message: `cannot probe Proxmox host ${host}: ${err}`,
      hint: `check that ${host} is reachable`,
    });
  }
  const out: N[] = [];
  for (const f of facts.nodes) {
    if (facts.hostErrors[f.host] !== undefined) continue;
    const where = `CT ${f.vmid} on ${f.host}`;
    if (f.container === 'missing') {
      problem({
        reason: 'container-not-running',
        node: f.name,
        message: `node ${f.name}: container ${f.vmid} does not exist on ${f.host}`,
        hint: "check the node's vmid and host in the inventory (was the container migrated?)",
      });
      continue;
    }
    if (f.container !== 'running') {
      problem({
        reason: 'container-not-running',
        node: f.name,
        message: `node ${f.name}: container ${f.vmid} on ${f.host} is ${f.container}`,
        hint: `start it (pct start ${f.vmid} on ${f.host}) and run again, or remove the node from the inventory`,
      });
      continue;
    }
    if (f.installed === null) {
      problem({
        reason: 'version-unknown',
        node: f.name,
        message: `node ${f.name} (${where}): k3s is not installed (/usr/local/bin/k3s not found)`,
        hint: 'install it with `pve-k3s install`, or remove the node from the inventory',
      });
      continue;
    }
    if (f.installed === undefined) {
      problem({
        reason: 'version-unknown',
        node: f.name,
        message: `node ${f.name} (${where}): cannot read the k3s version: ${f.installedError ?? 'unknown error'}`,
        hint: `run \`pct exec ${f.vmid} -- /usr/local/bin/k3s --version\` on ${f.host} to see why`,
      });
      continue;
    }
    if (facts.kubeError === undefined && f.kube === undefined) {
      problem({
        reason: 'not-registered',
        node: f.name,
        message: `node ${f.name} (${where}) is not in the cluster seen from ${facts.controller}`,
        hint: 'the inventory name must match `kubectl get nodes`; fix the name or join the node',
      });
      continue;
    }
    if (held.has(f.name)) {
      // Held: kept at its version whatever it is; the skew rules still look at it.
      out.push({ f, v: f.installed, staysCordoned: false });
      continue;
    }
    if (f.installed.major !== T.major) {
      problem({
        reason: 'major-change',
        node: f.name,
        message: `node ${f.name} runs ${f.installed.raw}; the target ${T.raw} is another major version`,
        hint: 'pve-k3s does not upgrade across major versions',
      });
      continue;
    }
    if (compareVersions(f.installed, T) > 0) {
      problem({
        reason: 'downgrade',
        node: f.name,
        message: `node ${f.name} runs ${f.installed.raw}, newer than the target ${T.raw}; pve-k3s never downgrades`,
        hint: 'choose a newer channel or pin a newer version with --k3s-version',
      });
      continue;
    }
    if (f.lock !== undefined) warnings.push(`container ${f.vmid} (${f.name}) is locked (${f.lock})`);
    if (f.kube && !f.kube.ready && compareVersions(f.installed, T) === 0) warnings.push(`node ${f.name} is NotReady`);
    if (f.kube?.k3sRole !== undefined && f.kube.k3sRole !== f.role) {
      problem({
        reason: 'version-unknown',
        node: f.name,
        message: `node ${f.name}: the inventory says ${f.role} but the node runs k3s ${f.kube.k3sRole}`,
        hint: 'fix the role in the inventory, or repair the node (pve-k3s doctor) before upgrading',
      });
      continue;
    }
    const staysCordoned = f.kube !== undefined && !f.kube.schedulable && f.kube.cordonedByUs === undefined;
    out.push({ f, v: f.installed, staysCordoned });
  }
  if (problems.length > 0) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new PlanError(first.message + more, {
      reason: first.reason,
      hint: first.hint,
      node: first.node,
      // With several problems, all are listed (the CLI always shows such a list).
      ...(problems.length > 1 ? { detail: problems.map((p) => `- ${p.message}\n  ${p.hint}`).join('\n') } : {}),
    });
  }
  return { nodes: out, warnings };
}

/** The versions to go through: the latest of each skipped minor, then the target. */
function stepVersions(nodes: N[], T: K3sVersion, channels: ChannelSet | undefined): K3sVersion[] {
  if (nodes.length === 0) return [T];
  const lowMinor = Math.min(...nodes.map((n) => n.v.minor));
  const out: K3sVersion[] = [];
  for (let m = lowMinor + 1; m < T.minor; m++) {
    const v = channels ? latestOfMinor(channels, { major: T.major, minor: m }) : undefined;
    if (!v) {
      const name = minorChannel({ major: T.major, minor: m });
      throw new PlanError(
        `the cluster runs v${T.major}.${lowMinor} and the target is ${T.raw}: minor versions cannot be skipped, and ${channels ? `the channel server lists no ${name} channel` : `the channel server was not asked for the ${name} release`}`,
        {
          reason: 'no-intermediate-release',
          hint: `upgrade to a ${name} release first (--k3s-version), or check k3s.channelUrl`,
        },
      );
    }
    out.push(v);
  }
  out.push(T);
  return out;
}

/** Whether a server is drained before its install, in a cluster of `servers` servers and `agents` agents. */
function drainServer(policy: PlanPolicy, { servers, agents }: { servers: number; agents: number }, minorChange: boolean): boolean {
  if (policy.drainServers === 'always') return true;
  if (policy.drainServers === 'never') return false;
  return servers > 1 || (minorChange && agents > 0);
}

function sameVersion(a: K3sVersion | undefined, b: K3sVersion): boolean {
  return a !== undefined && compareVersions(a, b) === 0;
}

/**
 * Kubernetes skew rules on the simulated state: an agent's kubelet must not be newer (by
 * minor) than the oldest apiserver, and apiservers stay within one minor of each other. A
 * server's own kubelet is exempt: it ships in the same binary as its apiserver, so a rolling
 * server upgrade necessarily runs it next to older apiservers for a moment (k3s upgrade docs).
 * Returns violations keyed by what breaks, so ones the cluster already had are not blamed on the plan.
 */
function findSkew(
  { servers, agents }: { servers: N[]; agents: N[] },
  /** The simulated state: each node's installed and kubelet version. */
  { cur, kubelet }: { cur: Map<string, K3sVersion>; kubelet: Map<string, K3sVersion> },
): Map<string, { text: string; nodes: string[] }> {
  const found = new Map<string, { text: string; nodes: string[] }>();
  const serverVersions = servers.map((s) => ({ name: s.f.name, v: cur.get(s.f.name)! }));
  const oldest = serverVersions.reduce((a, b) => (compareVersions(a.v, b.v) <= 0 ? a : b));
  const newest = serverVersions.reduce((a, b) => (compareVersions(a.v, b.v) >= 0 ? a : b));
  if (newest.v.minor - oldest.v.minor > 1) {
    found.set('apiservers', {
      text: `apiserver ${newest.name} (${minorChannel(newest.v)}) would be more than one minor ahead of ${oldest.name} (${minorChannel(oldest.v)})`,
      nodes: serverVersions.filter((s) => newest.v.minor - s.v.minor > 1).map((s) => s.name),
    });
  }
  for (const a of agents) {
    const k = kubelet.get(a.f.name)!;
    if (k.minor > oldest.v.minor) {
      found.set(`kubelet:${a.f.name}`, {
        text: `the kubelet on ${a.f.name} (${minorChannel(k)}) would be newer than the apiserver on ${oldest.name} (${minorChannel(oldest.v)})`,
        // The servers it is newer than (and the agent itself, when it is the one held back).
        nodes: [a.f.name, ...serverVersions.filter((s) => k.minor > s.v.minor).map((s) => s.name)],
      });
    }
  }
  return found;
}
