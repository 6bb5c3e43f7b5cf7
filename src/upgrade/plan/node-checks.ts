/**
 * The planner's checks of each node (pure): a stopped or missing container, k3s missing or its
 * version unreadable, a node the cluster does not know, another major version, a downgrade, a
 * role the node does not run. A held node's problem is only a warning; the others are refused
 * together, the first as the message and all of them in the detail.
 */
import { PlanError, type PlanErrorReason } from '../../domain/errors.js';
import type { ClusterFacts, NodeFacts } from '../../domain/facts.js';
import { compareVersions, type K3sVersion } from '../../domain/version.js';
import type { HoldReason } from '../../domain/policy.js';
import { HOLD_WORDS } from './selection.js';

/** A node with a known installed version. */
export interface CheckedNode {
  f: NodeFacts;
  v: K3sVersion;
  /** Cordoned before the run by someone else: drained, but left cordoned afterwards. */
  staysCordoned: boolean;
}

interface Problem {
  reason: PlanErrorReason;
  node: string | undefined;
  message: string;
  hint: string;
}

/** The nodes the plan can work with, and what is only worth a warning; refuses what stops the upgrade. */
export function checkNodes(
  facts: ClusterFacts,
  T: K3sVersion,
  held: ReadonlyMap<string, HoldReason>,
): { nodes: CheckedNode[]; warnings: string[] } {
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
  const out: CheckedNode[] = [];
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
