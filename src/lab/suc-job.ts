/**
 * The pod of a system-upgrade-controller Job in a lab cluster: its init containers (prepare,
 * cordon or drain) and the upgrade container of rancher/k3s-upgrade, as pure transitions on the
 * lab's clock (SUC v0.20 job/job.go; k3s-upgrade's upgrade.sh).
 * - `prepare` (k3s-upgrade `prepare <server plan>`): every 5 s it looks whether the server Plan
 *   exists, applies on no node, and every control-plane node runs the Job's version.
 * - `cordon`: the node is cordoned. `drain`: cordoned, then its pods (not DaemonSet pods) are
 *   moved, drainPerPodMs each.
 * - `upgrade`: the image is pulled and its k3s binary copied over the node's (installMs), then
 *   the k3s process is killed and systemd starts it again on the new binary; the container
 *   exits 0. A binary already at the version is left alone.
 * A pod that fails is retried after 10 s, 20 s (backoffLimit 2): the third failure fails the Job
 * (`BackoffLimitExceeded`); a Job running longer than activeDeadlineSeconds fails with
 * `DeadlineExceeded`. An image that does not exist is never pulled (the Job hits its deadline).
 */
import { versionExists } from './catalog.js';
import { pickNode } from './drain.js';
import { LAB_HOOKS } from './hooks.js';
import { BIN, binaryContent } from './k3s-files.js';
import { findContainer, nodeView, startService } from './k3s-model.js';
import type { KubeCluster, LabState, LabSucJob, LabSucStage, ServiceName } from './types.js';

const PREPARE_POLL_MS = 5000;
const BACKOFF_LIMIT = 2;
const CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';

/** The containers a Plan's Job runs, in order. */
export function jobStages(spec: Record<string, unknown>): LabSucStage[] {
  const out: LabSucStage[] = [];
  if (spec.prepare !== undefined) out.push('prepare');
  if (spec.drain !== undefined) out.push('drain');
  else if (spec.cordon === true) out.push('cordon');
  out.push('upgrade');
  return out;
}

/** The k3s version of a Job's (munged) version: v1.33.5-k3s1 -> v1.33.5+k3s1. */
export function unmunge(version: string): string {
  return version.replace(/-(k3s\d+)$/, '+$1');
}

/** Where a Job's pod runs: the lab, the cluster and its id. */
export interface JobSite {
  readonly s: LabState;
  readonly clusterId: string;
  readonly cluster: KubeCluster;
}

/** When the Job's pod next needs the clock; undefined when it has ended. */
export function nextJobEvent(job: LabSucJob, at: number): number | undefined {
  if (job.result) return undefined;
  const deadline = job.createdAt + job.activeDeadlineSeconds * 1000;
  const t = job.checkAt === undefined ? Math.max(job.stageSince, at) : job.checkAt;
  return Math.min(t, deadline);
}

/** Runs the Job's pod up to `now`. */
export function advanceJob(site: JobSite, job: LabSucJob, now: number): void {
  for (let i = 0; i < 10_000 && !job.result; i++) {
    const deadline = job.createdAt + job.activeDeadlineSeconds * 1000;
    const due = job.checkAt ?? job.stageSince;
    if (deadline <= now && deadline <= due) {
      finish(job, { type: 'Failed', at: deadline, reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
      return;
    }
    if (due > now) return;
    if (job.checkAt === undefined) enter(site, job, job.stageSince);
    else step(site, job, job.checkAt);
  }
}

function log(job: LabSucJob, stage: LabSucStage, line: string): void {
  job.logs[stage] = (job.logs[stage] ?? '') + line + '\n';
}

/** A container starts. */
function enter({ s, cluster }: JobSite, job: LabSucJob, t: number): void {
  const node = cluster.nodes[job.node];
  if (job.stage === 'prepare' || job.stage === 'cordon') {
    job.checkAt = t;
    return;
  }
  if (job.stage === 'drain') {
    if (node && !node.unschedulable) {
      node.unschedulable = true;
      node.unschedulableSince = t;
    }
    log(job, 'drain', `node/${job.node} cordoned`);
    const moving = cluster.pods.filter((p) => p.node === job.node && p.owner?.kind !== 'DaemonSet').length;
    job.checkAt = t + moving * s.timing.drainPerPodMs;
    return;
  }
  if (job.stage === 'upgrade') {
    const version = unmunge(job.version);
    // Never pulled: the pod waits in ImagePullBackOff until the Job's deadline.
    job.checkAt = versionExists(s.channels, version) ? t + s.timing.installMs : Infinity;
    if (!Number.isFinite(job.checkAt)) log(job, 'upgrade', `Back-off pulling image "rancher/k3s-upgrade:${job.version}": not found`);
  }
}

/** A container's timed work is due at `t`. */
function step(site: JobSite, job: LabSucJob, t: number): void {
  const { s, clusterId, cluster } = site;
  const node = cluster.nodes[job.node];
  switch (job.stage) {
    case 'prepare': {
      const server = typeof job.labels['upgrade.cattle.io/plan'] === 'string' ? prepareTarget(cluster, job) : undefined;
      const plan = cluster.suc?.plans.find((p) => p.namespace === job.namespace && p.name === server);
      if (!plan) {
        log(job, 'prepare', `[INFO]  master plan ${server ?? ''} doesn't exist`);
        job.checkAt = t + PREPARE_POLL_MS;
        return;
      }
      if ((plan.status.applying ?? []).length > 0 || plan.status.latestHash === undefined) {
        log(job, 'prepare', '[INFO]  Waiting for all master nodes to be upgraded');
        job.checkAt = t + PREPARE_POLL_MS;
        return;
      }
      const servers = Object.values(cluster.nodes).filter((n) => n.labels[CONTROL_PLANE] === 'true');
      const behind = servers.filter((n) => nodeView({ s, clusterId, now: t }, n).kubelet.replaceAll('+', '-') !== job.version);
      if (behind.length > 0) {
        log(job, 'prepare', `[INFO]  Waiting for all master nodes to be upgraded to version ${job.version}`);
        job.checkAt = t + PREPARE_POLL_MS;
        return;
      }
      next(job, t);
      return;
    }
    case 'cordon':
      if (node && !node.unschedulable) {
        node.unschedulable = true;
        node.unschedulableSince = t;
      }
      log(job, 'cordon', `node/${job.node} cordoned`);
      next(job, t);
      return;
    case 'drain':
      for (const p of cluster.pods) {
        if (p.node !== job.node || p.owner?.kind === 'DaemonSet') continue;
        log(job, 'drain', `evicting pod ${p.namespace}/${p.name}`);
        p.node = pickNode({ s, clusterId, now: t }, cluster, job.node);
        p.createdAt = t;
      }
      log(job, 'drain', `node/${job.node} drained`);
      next(job, t);
      return;
    case 'upgrade':
      upgrade(site, job, t);
      return;
    case 'done':
      return;
  }
}

function next(job: LabSucJob, t: number): void {
  const i = job.stages.indexOf(job.stage);
  job.stage = job.stages[i + 1] ?? 'done';
  job.stageSince = t;
  job.checkAt = undefined;
}

/** The server Plan an agent Job's prepare waits for (`prepare <plan>`), read from its Plan. */
function prepareTarget(cluster: KubeCluster, job: LabSucJob): string | undefined {
  const plan = cluster.suc?.plans.find((p) => p.namespace === job.namespace && p.name === job.plan);
  const prepare = plan?.spec.prepare as { args?: unknown } | undefined;
  const args = Array.isArray(prepare?.args) ? (prepare.args as unknown[]) : [];
  return args[0] === 'prepare' && typeof args[1] === 'string' ? args[1] : undefined;
}

/** k3s-upgrade: copy the binary, kill k3s (systemd starts it again); or the injected failure. */
function upgrade({ s, cluster }: JobSite, job: LabSucJob, t: number): void {
  const node = cluster.nodes[job.node];
  const fault = cluster.suc?.faults?.find(
    (f) => (f.node === undefined || f.node === job.node) && (f.plan === undefined || f.plan === job.plan) && (f.times ?? 1) > 0,
  );
  if (fault) {
    if (fault.times !== undefined) fault.times--;
    log(job, 'upgrade', fault.log.replace(/\n$/, ''));
    if (job.attempt > BACKOFF_LIMIT) {
      finish(job, backoffLimitExceeded(t));
      return;
    }
    // The Job controller starts a new pod after 10 s, 20 s, ... : its containers run again.
    job.stageSince = t + 10_000 * 2 ** (job.attempt - 1);
    job.attempt++;
    job.stage = job.stages[0] ?? 'upgrade';
    job.checkAt = undefined;
    return;
  }
  const loc = node ? findContainer(s, node.host, node.vmid) : undefined;
  const version = unmunge(job.version);
  if (!loc) {
    log(job, 'upgrade', '[ERROR]  k3s process not found');
    finish(job, backoffLimitExceeded(t));
    return;
  }
  const { ct } = loc;
  const service: ServiceName = ct.k3s.services.k3s?.enabled ? 'k3s' : 'k3s-agent';
  if (ct.k3s.binaryVersion === version) {
    log(job, 'upgrade', `[INFO]  binary already upgraded to ${version}`);
  } else {
    log(job, 'upgrade', `[INFO]  Comparing old and new binaries`);
    ct.fs[BIN] = { content: binaryContent(version), mode: 0o755 };
    ct.k3s.binaryVersion = version;
    log(job, 'upgrade', `[INFO]  Deploying new k3s binary to ${BIN}`);
    log(job, 'upgrade', `[INFO]  Killing k3s process`);
    if (ct.k3s.services[service]) startService(s, loc, { service, now: t, hooks: LAB_HOOKS });
  }
  job.stage = 'done';
  job.stageSince = t;
  job.checkAt = undefined;
  finish(job, { type: 'Complete', at: t, reason: '', message: '' });
}

function backoffLimitExceeded(at: number): NonNullable<LabSucJob['result']> {
  return { type: 'Failed', at, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
}

function finish(job: LabSucJob, result: NonNullable<LabSucJob['result']>): void {
  job.result = { ...result };
  job.stage = 'done';
  job.checkAt = undefined;
}
