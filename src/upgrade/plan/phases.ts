/**
 * The version phases of a plan (pure): a phase per version stepped through, ordered
 * workers-first (patch upgrades, the users' process) or servers-first (minor upgrades), the
 * servers one at a time with the controller last, the canary first in the first phase that
 * changes it. Each node's steps are contiguous: `drain`, `install` (or `restart`),
 * `wait-ready`, `uncordon`. The walk keeps a simulated cluster (installed and kubelet
 * versions), so every step is checked against the skew rules as it would leave the cluster.
 */
import { compareVersions, type K3sVersion } from '../../domain/version.js';
import type { NodePlan, Phase, PhaseOrder, Step } from '../../domain/plan.js';
import type { HoldReason } from '../../domain/policy.js';
import type { PlanPolicy } from './plan-options.js';
import type { CheckedNode as N } from './node-checks.js';
import { findSkew, type Violation } from './skew.js';

/** The checked nodes of a plan, by role, and the held ones. */
export interface PlanNodes {
  /** In inventory order. */
  nodes: readonly N[];
  servers: readonly N[];
  agents: readonly N[];
  held: ReadonlyMap<string, HoldReason>;
}

/** What walking the versions gave. */
export interface Walked {
  phases: Phase[];
  /** What the plan does, in the end, to each node it touches. */
  finalAction: Map<string, NodePlan['action']>;
  /** The nodes a phase upgrades or restarts. */
  handled: Set<string>;
  canaryPlaced: boolean;
  /** The skew violations the plan would introduce (the cluster's own are warnings). */
  skew: Violation[];
}

/** A phase per version of `versions`; the skew the cluster already has goes to `warnings`. */
export function versionPhases(
  { nodes, servers, agents, held, controller }: PlanNodes & { controller: string },
  { versions: phaseVersions, policy }: { versions: readonly K3sVersion[]; policy: PlanPolicy },
  warnings: string[],
): Walked {
  // Simulated cluster state while walking the plan: installed and kubelet versions.
  const cur = new Map(nodes.map((n) => [n.f.name, n.v] as const));
  const kubelet = new Map(nodes.map((n) => [n.f.name, n.f.kube?.kubeletVersion ?? n.v] as const));
  const skew: Violation[] = [];
  const initialSkew = findSkew({ servers, agents }, { cur, kubelet });
  for (const v of initialSkew.values())
    warnings.push(`the cluster already breaks the version skew policy: ${v.text.replace(' would be ', ' is ')}`);

  // Servers one at a time, the controller last among them; both groups in inventory order.
  const serverOrder = [...servers.filter((n) => n.f.name !== controller), ...servers.filter((n) => n.f.name === controller)];
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
  return { phases, finalAction, handled, canaryPlaced, skew };
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
