/**
 * system-upgrade-controller (SUC) in a lab cluster, as pure state transitions on the lab's
 * clock: its handlers run when the cluster is looked at (`reconcileSuc`), catching up event by
 * event to the time asked for, so a Plan moves on while nobody watches.
 *
 * Follows SUC v0.20 (rancher/system-upgrade-controller pkg/upgrade/handle_upgrade.go,
 * handle_batch.go, plan/plan.go, job/job.go; also true of v0.16-v0.19):
 * - Plan status: `Validated` True `PlanIsValid` (or False `Error`); `LatestResolved` True
 *   `Version` from spec.version (`+` written `-`) or `Channel`; latestHash = sha224 of
 *   latestVersion + serviceAccountName.
 * - Node selection: spec.nodeSelector, `kubernetes.io/hostname` exists, and
 *   `plan.upgrade.cattle.io/<plan>` NotIn [disabled, latestHash]; the nodes applying stay,
 *   further candidates in sha256(node uid + plan uid + hash) order up to spec.concurrency.
 * - One Job per selected node, `apply-<plan>-on-<node>-with-<hash>` (wrangler SafeConcatName:
 *   cut to 57 characters plus a 5-character digest when longer than 63); `Complete` False
 *   `SyncJob` while nodes apply, True `Complete` when none is left, False `JobFailed` with
 *   "Job <ns>/<job> failed on Node <node>: <reason>: <message>" when a Job failed.
 * - A completed Job labels its node `plan.upgrade.cattle.io/<plan>=<hash>` and uncordons it
 *   when the Plan cordons or drains (whoever cordoned it); finished Jobs go after their TTL
 *   (900 s); Jobs of a deleted Plan, of another version, or out of turn are deleted.
 * The Job's pod (prepare, cordon/drain, the k3s-upgrade container) is in suc-job.ts.
 */
import { createHash } from 'node:crypto';
import { channelLatest } from './catalog.js';
import { uid } from './ids.js';
import { advanceJob, jobStages, nextJobEvent, type JobSite } from './suc-job.js';
import type { KubeCluster, KubeNode, LabCondition, LabState, LabSuc, LabSucJob, LabSucPlan } from './types.js';

/** The SUC release whose behaviour the lab follows. */
export const LAB_SUC_VERSION = 'v0.20.0';
export const SUC_NAMESPACE = 'system-upgrade';
export const PLAN_LABEL_PREFIX = 'plan.upgrade.cattle.io/';
/** SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH's default. */
const JOB_TTL_MS = 900_000;
/** SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS's default. */
export const DEFAULT_DEADLINE_S = 900;
const UNRESOLVABLE = 'cannot resolve plan: no channel or version specified';

export function sucOf(cluster: KubeCluster | undefined): LabSuc | undefined {
  return cluster?.suc;
}

/** The cluster's SUC state, made empty (no CRD, no deployment) when it has none. */
export function ensureSuc(cluster: KubeCluster, now: number): LabSuc {
  cluster.suc ??= { crd: false, plans: [], jobs: [], at: now };
  return cluster.suc;
}

/** Catches the controller of `clusterId` up to `now`. */
export function reconcileSuc(s: LabState, clusterId: string, now: number): void {
  const cluster = s.clusters[clusterId];
  const suc = cluster?.suc;
  if (!cluster || !suc) return;
  if (!suc.deployment) {
    suc.at = Math.max(suc.at, now);
    return;
  }
  for (let i = 0; i < 100_000; i++) {
    settle({ s, clusterId, cluster }, suc);
    const next = nextSucEvent(s, clusterId);
    if (next === undefined || next > now) break;
    suc.at = Math.max(suc.at, next);
    for (const job of [...suc.jobs]) advanceJob({ s, clusterId, cluster }, job, suc.at);
    expireJobs(suc);
  }
  suc.at = Math.max(suc.at, now);
  settle({ s, clusterId, cluster }, suc);
}

/** Whether the controller has timed work ahead (a Job's container running, a wait, a TTL). */
export function nextSucEvent(s: LabState, clusterId: string): number | undefined {
  const cluster = s.clusters[clusterId];
  const suc = cluster?.suc;
  if (!cluster || !suc?.deployment) return undefined;
  let next = Infinity;
  for (const job of suc.jobs) {
    const t = job.result ? job.result.at + JOB_TTL_MS : nextJobEvent(job, suc.at);
    if (t !== undefined && t < next) next = t;
  }
  return Number.isFinite(next) ? Math.max(next, suc.at) : undefined;
}

/** The handlers that react at once (Plan status, Job generation, Job results) until nothing changes. */
function settle(site: JobSite, suc: LabSuc): void {
  const { s, cluster } = site;
  for (let round = 0; round < 50; round++) {
    let changed = false;
    for (const plan of suc.plans) changed = planStatus(s, plan, suc.at) || changed;
    changed = jobResults(cluster, suc) || changed;
    for (const plan of suc.plans) changed = generate(site, suc, plan) || changed;
    if (!changed) return;
  }
}

/** The plan status handler: Validated, LatestResolved, latestVersion and latestHash. */
function planStatus(s: LabState, plan: LabSucPlan, now: number): boolean {
  if (plan.status.observedGeneration === plan.generation) return false;
  plan.status.observedGeneration = plan.generation;
  const spec = plan.spec;
  const drain = spec.drain as Record<string, unknown> | undefined;
  if (drain && drain.deleteEmptydirData !== undefined && drain.deleteLocalData !== undefined) {
    setCondition(
      plan,
      {
        type: 'Validated',
        status: 'False',
        reason: 'Error',
        message: 'spec.drain cannot specify both deleteEmptydirData and deleteLocalData',
      },
      now,
    );
    return true;
  }
  setCondition(plan, { type: 'Validated', status: 'True', reason: 'PlanIsValid', message: '' }, now);
  const version = typeof spec.version === 'string' ? spec.version : '';
  const channel = typeof spec.channel === 'string' ? spec.channel : '';
  if (version === '' && channel === '') {
    setCondition(plan, { type: 'LatestResolved', status: 'False', reason: 'Error', message: UNRESOLVABLE }, now);
    return true;
  }
  const latest = version !== '' ? version : (channelLatest(s.channels, channel.split('/').pop() ?? '') ?? '');
  const munged = latest.replaceAll('+', '-');
  if (plan.status.latestVersion !== munged) setCondition(plan, { type: 'Complete', status: 'False', reason: 'Resolved', message: '' }, now);
  plan.status.latestVersion = munged;
  setCondition(plan, { type: 'LatestResolved', status: 'True', reason: version !== '' ? 'Version' : 'Channel', message: '' }, now);
  const h = createHash('sha224');
  h.update(munged);
  h.update(typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : '');
  plan.status.latestHash = h.digest('hex');
  plan.resourceVersion++;
  return true;
}

/** The generating handler: which nodes apply the Plan now, a Job for each, the Complete condition. */
function generate({ cluster }: JobSite, suc: LabSuc, plan: LabSucPlan): boolean {
  const st = plan.status;
  if (!isTrue(plan, 'Validated') || !isTrue(plan, 'LatestResolved') || st.latestHash === undefined || st.latestVersion === undefined) {
    return setCondition(plan, { type: 'Complete', status: 'False', reason: 'NotReady', message: 'plan is not valid and resolved' }, suc.at);
  }
  const selected = selectNodes(cluster, plan);
  let changed = false;
  for (const node of selected) {
    const name = jobName(plan.name, node.name, st.latestHash);
    if (suc.jobs.some((j) => j.namespace === plan.namespace && j.name === name)) continue;
    suc.jobs.push(newJob(plan, node, { name, now: suc.at }));
    changed = true;
  }
  const names = selected.map((n) => n.name);
  if (JSON.stringify(st.applying ?? []) !== JSON.stringify(names)) {
    st.applying = names;
    plan.resourceVersion++;
    changed = true;
  }
  const failed = suc.jobs.find((j) => j.plan === plan.name && j.namespace === plan.namespace && j.result?.type === 'Failed');
  if (names.length === 0)
    changed = setCondition(plan, { type: 'Complete', status: 'True', reason: 'Complete', message: '' }, suc.at) || changed;
  else if (failed && names.includes(failed.node))
    changed =
      setCondition(
        plan,
        {
          type: 'Complete',
          status: 'False',
          reason: 'JobFailed',
          message: `Job ${failed.namespace}/${failed.name} failed on Node ${failed.node}: ${failed.result!.reason}: ${failed.result!.message}`,
        },
        suc.at,
      ) || changed;
  else changed = setCondition(plan, { type: 'Complete', status: 'False', reason: 'SyncJob', message: '' }, suc.at) || changed;
  return changed;
}

/** SelectConcurrentNodes. */
function selectNodes(cluster: KubeCluster, plan: LabSucPlan): KubeNode[] {
  const hash = plan.status.latestHash ?? '';
  const key = PLAN_LABEL_PREFIX + plan.name;
  const eligible = Object.values(cluster.nodes).filter(
    (n) =>
      n.labels['kubernetes.io/hostname'] !== undefined &&
      matchesSelector(n.labels, plan.spec.nodeSelector) &&
      n.labels[key] !== 'disabled' &&
      n.labels[key] !== hash,
  );
  const applying = plan.status.applying ?? [];
  const selected = eligible.filter((n) => applying.includes(n.name));
  const concurrency = typeof plan.spec.concurrency === 'number' && plan.spec.concurrency > 0 ? plan.spec.concurrency : 1;
  if (selected.length < concurrency) {
    const order = (n: KubeNode) => createHash('sha256').update(n.uid).update(plan.uid).update(hash).digest('hex');
    const candidates = eligible.filter((n) => !applying.includes(n.name)).sort((a, b) => (order(a) < order(b) ? -1 : 1));
    for (const n of candidates) if (selected.length < concurrency) selected.push(n);
  }
  return selected.sort((a, b) => a.name.localeCompare(b.name));
}

/** A metav1.LabelSelector (matchLabels, matchExpressions) against labels; none selects everything. */
export function matchesSelector(labels: Record<string, string>, selector: unknown): boolean {
  if (selector === undefined || selector === null) return true;
  const sel = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const v = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && (v === undefined || !values.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && values.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

/** wrangler's name.SafeConcatName of apply, plan, on, node, with, hash. */
export function jobName(plan: string, node: string, hash: string): string {
  const full = ['apply', plan, 'on', node.split('.')[0] ?? node, 'with', hash].join('-');
  if (full.length < 64) return full;
  const digest = createHash('sha256').update(full).digest('hex');
  const c = full[56] ?? '';
  return /[a-z0-9]/.test(c) ? `${full.slice(0, 57)}-${digest.slice(0, 5)}` : `${full.slice(0, 56)}-${digest.slice(0, 6)}`;
}

function newJob(plan: LabSucPlan, node: KubeNode, { name, now }: { name: string; now: number }): LabSucJob {
  const hash = plan.status.latestHash ?? '';
  const version = plan.status.latestVersion ?? '';
  const labels: Record<string, string> = {
    'upgrade.cattle.io/controller': 'system-upgrade-controller',
    'upgrade.cattle.io/node': node.name,
    'upgrade.cattle.io/plan': plan.name,
    'upgrade.cattle.io/version': version,
    [PLAN_LABEL_PREFIX + plan.name]: hash,
  };
  for (const [k, v] of Object.entries(plan.labels)) if (!k.includes('cattle.io/')) labels[k] = v;
  const deadline = typeof plan.spec.jobActiveDeadlineSecs === 'number' ? plan.spec.jobActiveDeadlineSecs : DEFAULT_DEADLINE_S;
  const stages = jobStages(plan.spec);
  return {
    namespace: plan.namespace,
    name,
    uid: uid(),
    plan: plan.name,
    node: node.name,
    hash,
    version,
    createdAt: now,
    labels,
    stage: stages[0] ?? 'upgrade',
    stageSince: now,
    stages,
    attempt: 1,
    activeDeadlineSeconds: deadline,
    logs: {},
  };
}

/** The job handler: results label and uncordon the node; Jobs of gone Plans, nodes or versions, or out of turn, go. */
function jobResults(cluster: KubeCluster, suc: LabSuc): boolean {
  let changed = false;
  for (const job of [...suc.jobs]) {
    const plan = suc.plans.find((p) => p.namespace === job.namespace && p.name === job.plan);
    const node = cluster.nodes[job.node];
    const drop = () => {
      suc.jobs.splice(suc.jobs.indexOf(job), 1);
      changed = true;
    };
    if (!plan || !node || job.version !== plan.status.latestVersion) {
      drop();
      continue;
    }
    if (job.result?.type === 'Complete' && !job.nodeLabelled) {
      job.nodeLabelled = true;
      node.labels[PLAN_LABEL_PREFIX + plan.name] = job.hash;
      if (node.unschedulable && (plan.spec.cordon === true || plan.spec.drain !== undefined)) {
        node.unschedulable = false;
        node.unschedulableSince = undefined;
      }
      changed = true;
      continue;
    }
    if (!job.result && !(plan.status.applying ?? []).includes(job.node)) drop();
  }
  return changed;
}

function expireJobs(suc: LabSuc): void {
  suc.jobs = suc.jobs.filter((j) => !j.result || j.result.at + JOB_TTL_MS > suc.at);
}

function isTrue(plan: LabSucPlan, type: string): boolean {
  return plan.status.conditions.some((c) => c.type === type && c.status === 'True');
}

/** Sets a condition; true when it changed (lastTransitionTime moves only when the status does). */
function setCondition(
  plan: LabSucPlan,
  { type, status, reason, message }: Pick<LabCondition, 'type' | 'status' | 'reason' | 'message'>,
  now: number,
): boolean {
  const c = plan.status.conditions.find((x) => x.type === type);
  if (c && c.status === status && c.reason === reason && c.message === message) return false;
  if (!c) plan.status.conditions.push({ type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now });
  else {
    if (c.status !== status) c.lastTransitionTime = now;
    Object.assign(c, { status, reason, message, lastUpdateTime: now });
  }
  plan.resourceVersion++;
  return true;
}
