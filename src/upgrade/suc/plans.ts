/**
 * The upgrade plan as system-upgrade-controller (SUC) Plans, for GitOps: `pve-k3s plan --engine
 * suc -o yaml`. Pure: the same plan and policy give the same Plans. Follows SUC v0.20's Plan
 * (upgrade.cattle.io/v1, pkg/apis/upgrade.cattle.io/v1/types.go).
 *
 * Per phase of the plan (one per minor version stepped through), a server Plan and an agent
 * Plan, each pinned to the phase's version (never a channel: a channel would let SUC jump to its
 * latest release and skip a minor). The agent Plan's prepare container waits for the server Plan
 * of its phase (`k3s-upgrade prepare <server plan>`). A later phase only selects nodes that SUC
 * has labelled done with the same role's Plan of the phase before (`plan.upgrade.cattle.io/<plan>`
 * exists and is not `disabled`), so even when every Plan is applied at once no node skips a minor.
 * Only nodes that carry the opt-in label `pve-k3s.io/upgrade=true` are selected at all.
 */
import { createHash } from 'node:crypto';
import type { DrainPolicy } from '../../inventory/types.js';
import type { Phase, UpgradePlan } from '../../domain/plan.js';
import type { Role } from '../../domain/roles.js';

export const SUC_API_VERSION = 'upgrade.cattle.io/v1';
export const SUC_NAMESPACE = 'system-upgrade';
export const SUC_SERVICE_ACCOUNT = 'system-upgrade';
export const K3S_UPGRADE_IMAGE = 'rancher/k3s-upgrade';
/** The label a node must carry for any of our Plans to select it. */
export const OPT_IN_LABEL = 'pve-k3s.io/upgrade';
/** The annotation on each Plan naming the nodes it must not touch (cordoned before the run). */
export const EXCLUDED_ANNOTATION = 'pve-k3s.io/excluded-nodes';
const CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';
/** SUC labels a node `plan.upgrade.cattle.io/<plan>=<hash>` when the plan's Job succeeded there; `disabled` excludes it. */
export const PLAN_LABEL_PREFIX = 'plan.upgrade.cattle.io/';
/** Beyond the drain and the health wait: image pull, binary swap, restart. */
const JOB_MARGIN_SECONDS = 300;

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface SucDrain {
  timeout: string;
  gracePeriod?: number;
  deleteEmptydirData: boolean;
  ignoreDaemonSets: boolean;
  force: boolean;
  disableEviction: boolean;
  skipWaitForDeleteTimeout?: number;
}

export interface SucContainer {
  image: string;
  args?: string[];
}

export interface SucPlan {
  apiVersion: typeof SUC_API_VERSION;
  kind: 'Plan';
  metadata: {
    name: string;
    namespace: typeof SUC_NAMESPACE;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    concurrency: number;
    version: string;
    serviceAccountName: string;
    nodeSelector: { matchExpressions: LabelSelectorRequirement[] };
    tolerations?: Toleration[];
    cordon?: boolean;
    drain?: SucDrain;
    jobActiveDeadlineSecs: number;
    prepare?: SucContainer;
    upgrade: SucContainer;
  };
}

export interface SucPlanPolicy {
  drain: DrainPolicy;
  /** How long a node may take to be Ready at the new version (upgrade.readyTimeoutSeconds). */
  readyTimeoutSeconds: number;
}

/** A node SUC must leave alone: it was cordoned before the run (SUC would uncordon it). */
export interface ExcludedNode {
  node: string;
  role: Role;
  /** The Plans it must be labelled `disabled` for. */
  plans: string[];
}

export interface SucPlanSet {
  cluster: string;
  plans: SucPlan[];
  excluded: ExcludedNode[];
}

/** A Plan's name: DNS-1123, at most 63 characters (it is also a label key's name part). */
export function sucPlanName(cluster: string, phase: number, role: 'server' | 'agent'): string {
  const name = `pve-k3s-${cluster}-${phase}-${role}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(cluster).digest('hex').slice(0, 6);
  const room = 63 - `pve-k3s--${hash}-${phase}-${role}`.length;
  return `pve-k3s-${cluster.slice(0, room).replace(/-+$/, '')}-${hash}-${phase}-${role}`;
}

/** The phase number of a phase (the `<phase>` of its step ids). */
function phaseNumber(p: Phase, fallback: number): number {
  const n = Number(p.steps[0]?.id.split('/')[0]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The SUC Plans for `plan`: a server and an agent Plan per phase that installs or restarts k3s. */
export function sucPlans(plan: UpgradePlan, policy: SucPlanPolicy, o: { run?: string } = {}): SucPlanSet {
  const phases = plan.phases
    .filter((p) => p.steps.some((s) => s.kind === 'install' || s.kind === 'restart'))
    .map((p, i) => ({ p, no: phaseNumber(p, i + 1) }));
  const excludedNodes = plan.nodes.filter((n) => n.staysCordoned);
  const perNode = policy.drain.timeoutSeconds + policy.readyTimeoutSeconds + JOB_MARGIN_SECONDS;
  const plans: SucPlan[] = [];
  const excludedPlans = new Map<string, string[]>(excludedNodes.map((n) => [n.node, []]));
  let previous: { server: string; agent: string } | undefined;
  for (const { p, no } of phases) {
    const names = { server: sucPlanName(plan.cluster, no, 'server'), agent: sucPlanName(plan.cluster, no, 'agent') };
    const serversChanged = new Set(p.steps.filter((s) => s.role === 'server' && s.kind !== 'uncordon').map((s) => s.node)).size;
    for (const role of ['server', 'agent'] as const) {
      const name = names[role];
      const excluded = excludedNodes.filter((n) => (n.role === 'server') === (role === 'server')).map((n) => n.node);
      for (const n of excluded) excludedPlans.get(n)!.push(name);
      const drains = p.steps.some((s) => s.kind === 'drain' && (s.role === 'server') === (role === 'server'));
      const select: LabelSelectorRequirement[] = [
        role === 'server' ? { key: CONTROL_PLANE, operator: 'In', values: ['true'] } : { key: CONTROL_PLANE, operator: 'DoesNotExist' },
        { key: OPT_IN_LABEL, operator: 'In', values: ['true'] },
      ];
      if (previous) {
        // Only nodes SUC finished with this role's Plan of the phase before: no minor is skipped.
        const done = PLAN_LABEL_PREFIX + previous[role];
        select.push({ key: done, operator: 'Exists' }, { key: done, operator: 'NotIn', values: ['disabled'] });
      }
      const annotations: Record<string, string> = {
        'pve-k3s.io/phase-version': p.version,
        'pve-k3s.io/target-version': plan.target.version,
      };
      if (excluded.length > 0) annotations[EXCLUDED_ANNOTATION] = excluded.join(',');
      plans.push({
        apiVersion: SUC_API_VERSION,
        kind: 'Plan',
        metadata: {
          name,
          namespace: SUC_NAMESPACE,
          labels: {
            'app.kubernetes.io/managed-by': 'pve-k3s',
            'pve-k3s.io/cluster': plan.cluster,
            'pve-k3s.io/phase': String(no),
            'pve-k3s.io/role': role,
            ...(o.run !== undefined ? { 'pve-k3s.io/run': o.run } : {}),
          },
          annotations,
        },
        spec: {
          concurrency: role === 'server' ? 1 : Math.max(1, p.concurrency),
          version: p.version,
          serviceAccountName: SUC_SERVICE_ACCOUNT,
          nodeSelector: { matchExpressions: select },
          ...(role === 'server' ? { tolerations: controlPlaneTolerations() } : {}),
          ...(drains ? { drain: drainSpec(policy.drain) } : { cordon: true }),
          // SUC's default of 900 s fails a long drain. An agent's Job also waits in its prepare
          // container for the servers of its phase, one after another.
          jobActiveDeadlineSecs: role === 'server' ? perNode : perNode * (1 + serversChanged),
          ...(role === 'agent' ? { prepare: { image: K3S_UPGRADE_IMAGE, args: ['prepare', names.server] } } : {}),
          upgrade: { image: K3S_UPGRADE_IMAGE },
        },
      });
    }
    previous = names;
  }
  const excluded = excludedNodes.map((n) => ({ node: n.node, role: n.role, plans: excludedPlans.get(n.node)! }));
  return { cluster: plan.cluster, plans, excluded };
}

/** The taints k3s servers may carry (k3s docs: CriticalAddonsOnly; kubeadm-style control-plane, etcd). */
function controlPlaneTolerations(): Toleration[] {
  return [
    { key: 'CriticalAddonsOnly', operator: 'Exists' },
    { key: CONTROL_PLANE, operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/etcd', operator: 'Exists', effect: 'NoExecute' },
  ];
}

/** The inventory's drain policy as SUC's drain (kubectl drain flags; SUC reads an integer timeout as nanoseconds, so a string). */
export function drainSpec(d: DrainPolicy): SucDrain {
  return {
    timeout: `${d.timeoutSeconds}s`,
    ...(d.gracePeriodSeconds !== undefined ? { gracePeriod: d.gracePeriodSeconds } : {}),
    deleteEmptydirData: d.deleteEmptydirData,
    ignoreDaemonSets: d.ignoreDaemonsets,
    force: d.force,
    disableEviction: d.disableEviction,
    ...(d.skipWaitForDeleteTimeoutSeconds !== undefined ? { skipWaitForDeleteTimeout: d.skipWaitForDeleteTimeoutSeconds } : {}),
  };
}

/** What kubectl apply takes as JSON: a v1 List of the Plans. */
export function sucPlanList(set: SucPlanSet): { apiVersion: 'v1'; kind: 'List'; items: SucPlan[] } {
  return { apiVersion: 'v1', kind: 'List', items: set.plans };
}

/**
 * A multi-document YAML stream of the Plans, led by comments: how to opt nodes in, and the
 * `disabled` labels for nodes that were cordoned before the run (SUC would uncordon them).
 */
export function sucPlansYaml(set: SucPlanSet, stringify: (doc: unknown) => string): string {
  const head = [
    `# system-upgrade-controller Plans for cluster ${set.cluster}, written by pve-k3s (plan --engine suc).`,
    `# Apply: kubectl apply -f THIS_FILE; then opt nodes in: kubectl label node NODE ${OPT_IN_LABEL}=true`,
  ];
  if (set.plans.length === 0) head.push('# Nothing to do: every node already runs the target.');
  if (set.excluded.length > 0) {
    head.push('# Excluded (cordoned before the run; SUC would uncordon them): label them first:');
    for (const e of set.excluded)
      for (const p of e.plans) head.push(`#   kubectl label node ${e.node} ${PLAN_LABEL_PREFIX}${p}=disabled --overwrite`);
  }
  const docs = set.plans.map((p) => stringify(p));
  return head.join('\n') + '\n' + docs.map((d) => `---\n${d}`).join('');
}
