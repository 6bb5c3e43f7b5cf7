/**
 * `pve-k3s upgrade --engine suc`: system-upgrade-controller (SUC) does each node's work (cordon
 * or drain, binary swap, restart) through the Plans of plans.ts, while pve-k3s keeps what SUC
 * cannot do: the plan's order and minor steps (one phase's Plans at a time, a node opted in
 * only when its turn comes), Proxmox snapshots before a node's Job, its own health gate as the
 * judge of success (not the Job's status), and one run with progress, journal, run record and
 * lease, exactly as the SSH engine (through the guarded operation). Between nodes it enforces
 * the run policy with the SSH engine's own code: the checks before each node opt-in (the
 * maintenance window, the alert and pod gates: between-nodes.ts), the soak and canary steps
 * (soak.ts), notifications (run-notices.ts), and after a failed gate the rollback of a worker
 * to its snapshot (wait-ready.ts). Every phase goes servers first (the agent Plan's `prepare`
 * waits for the server Plan), so the plan is made servers first (sucOrder) and a canary is a
 * server, or a worker of a phase whose servers have nothing to do; it goes alone.
 *
 * Per node: its snapshot (--snapshot), then in one round trip the node annotated as cordoned
 * for the upgrade by pve-k3s (SUC cordons it), the opt-in label `pve-k3s.io/upgrade=true` and
 * its Job looked up; then `kubectl wait` on the Job (with the Job and the Plan read in the same
 * round trip); then the shared health gate at the phase's version, whose round trip also drops
 * the opt-in label and reads whether SUC uncordoned the node. A failed Job stops the run with
 * its pod's log. Nodes cordoned before the run are labelled `plan.upgrade.cattle.io/<plan>=disabled`
 * so SUC never touches (and never uncordons) them. The Plans are deleted when the run completes.
 */
import { InterruptedError, RunError, UsageError, invariant, type PveK3sError } from '../../domain/errors.js';
import type { UpgradeOrder } from '../../domain/roles.js';
import { CORDON_ANNOTATION } from '../../domain/facts.js';
import type { Emit } from '../../domain/events.js';
import { planSteps, type Phase, type Step, type UpgradePlan } from '../../domain/plan.js';
import { Kube } from '../../kube/kube.js';
import { parseJsonOutput } from '../../kube/nodes.js';
import { classifyKubectl } from '../../kube/kube-error.js';
import { journalPath, type Journal, type JournalRecord } from '../../operation/journal.js';
import { guarded, guardEnvFor } from '../../operation/guard.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { failureReason } from '../../shell/reason.js';
import type { RunResult } from '../../shell/shell.js';
import { SERVICE } from '../../k3s/install-config.js';
import { beforeEachNode, mayStartNode, type BeforeNode, type NodeCheckRun } from '../run/between-nodes.js';
import { RunState } from '../run/context.js';
import { DEFAULT_POLL, waitHealthy } from '../run/health-gate.js';
import { runNotices } from '../run/run-notices.js';
import { nodeGroups, type NodeStop, type RunPlanResult } from '../run/run-plan.js';
import { isEtcdMember, snapshotName, takeSnapshot } from '../run/snapshots.js';
import { PolicyStop, soak, type SoakDeps } from '../run/soak.js';
import { executeResult, pctCache, upgradeSpec, type ExecuteOptions, type ExecuteResult } from '../run/upgrade-run.js';
import { asPveError } from '../run/steps.js';
import { gateFailure, pruneAfterGate, RolledBackError, type AfterGateDeps } from '../run/wait-ready.js';
import { OPT_IN_LABEL, PLAN_LABEL_PREFIX, SUC_NAMESPACE, sucPlanList, sucPlans, type SucPlan, type SucPlanSet } from './plans.js';

/** The label selector of one cluster's Plans. */
export function ourPlansSelector(cluster: string): string {
  return `app.kubernetes.io/managed-by=pve-k3s,pve-k3s.io/cluster=${cluster}`;
}
/** The annotation `pve-k3s suc pause` puts on our Plans: the run stops before its next node. */
export const PAUSED_ANNOTATION = 'pve-k3s.io/paused';
/** How long SUC may take to create a node's Job after the node is opted in. */
const JOB_APPEAR_MS = 120_000;
/** kubectl's answers that say the API is away for now. */
const TRANSIENT = new Set(['refused', 'timeout', 'unreachable']);
/** One `kubectl wait` on a Job waits at most this long (then the Job and Plan are read again). */
const WAIT_CHUNK_S = 60;

/**
 * The order of a plan the SUC engine runs: servers first in every phase, as SUC does them (the
 * agent Plan's `prepare` waits until every server runs the phase's version), so the plan shown,
 * its soak steps and its canary are what runs. Workers first cannot be honoured.
 */
export function sucOrder(order: UpgradeOrder): UpgradeOrder {
  if (order === 'workers-first')
    throw new UsageError(
      "--engine suc cannot upgrade workers first (--order workers-first, upgrade.order): system-upgrade-controller's agent Plan waits (prepare) until every server runs the phase's version",
      { hint: 'nothing was changed; use --order auto or servers-first with --engine suc, or upgrade over SSH (without --engine suc)' },
    );
  return 'servers-first';
}

/** Refusals that depend on the plan: what SUC cannot do the way the plan says. */
export function sucPlanRefusal(plan: UpgradePlan): PveK3sError | undefined {
  const canary = canaryRefusal(plan);
  if (canary) return canary;
  const cordonedServers = plan.nodes.filter((n) => n.staysCordoned && n.role === 'server' && n.action !== 'none');
  if (cordonedServers.length > 0 && plan.phases.some((p) => p.steps.some((s) => s.role === 'agent' && s.kind !== 'uncordon')))
    return new RunError(
      `server ${cordonedServers.map((n) => n.node).join(', ')} was cordoned before the run: SUC must leave it alone, but the agents' Jobs wait for every server to run the new version`,
      {
        hint: 'uncordon it first (kubectl uncordon), or upgrade over SSH: `pve-k3s upgrade` (it drains the server and leaves it cordoned)',
      },
    );
  return undefined;
}

/**
 * A worker canary cannot go first in a phase whose servers change: SUC upgrades them before any
 * worker. The canary is then refused (as the planner refuses one that breaks the skew rules),
 * saying the three ways that work.
 */
function canaryRefusal(plan: UpgradePlan): PveK3sError | undefined {
  const canary = plan.policy?.canary?.node;
  if (canary === undefined) return undefined;
  const phase = plan.phases.find((p) => p.steps[0]?.node === canary && !p.steps[0].id.startsWith('0/'));
  if (!phase || phase.steps[0]!.role === 'server') return undefined;
  const servers = [
    ...new Set(phase.steps.filter((s) => s.role === 'server' && (s.kind === 'install' || s.kind === 'restart')).map((s) => s.node)),
  ];
  if (servers.length === 0) return undefined;
  return new UsageError(
    `--engine suc cannot upgrade the worker canary ${canary} first: this upgrade also changes server ${servers.join(', ')}, and system-upgrade-controller's agent Plan waits (prepare) until every server runs the new version`,
    {
      hint: `nothing was changed; choose a server as the canary (--canary ${servers[0]}), or upgrade the servers first (pve-k3s upgrade --engine suc ${servers.map((n) => `--node ${n}`).join(' ')}) and then the workers with --canary ${canary}, or upgrade over SSH (without --engine suc), which can upgrade a worker first`,
    },
  );
}

export async function executeSucUpgrade(conn: ClusterConnection, plan: UpgradePlan, o: ExecuteOptions): Promise<ExecuteResult> {
  const inv = conn.inventory;
  const env = guardEnvFor(conn, o.env, o.guard);
  const journalFile = journalPath(env.stateDir, inv.cluster);
  const pct = pctCache(conn);
  const refusal = sucPlanRefusal(plan);
  if (refusal) throw refusal;
  const beforeNode = beforeEachNode(inv.upgrade);
  return guarded<ExecuteResult>(env, upgradeSpec(plan, o, { conn, pct }), async (g) => {
    const signal = o.signal ? AbortSignal.any([o.signal, g.signal]) : g.signal;
    const controller = inv.nodes.find((n) => n.name === plan.controller);
    invariant(controller, `controller ${plan.controller} is not in the inventory`);
    const notices = runNotices(plan, { urls: inv.upgrade.notify ?? [], run: g.run, clock: conn.clock, emit: o.emit });
    await notices?.start();
    const run = new SucRun(plan, {
      inventory: inv,
      kube: new Kube(pct(controller.host), controller.vmid, controller.name),
      pct,
      emit: notices?.emit ?? o.emit,
      signal,
      clock: conn.clock,
      poll: o.poll ?? DEFAULT_POLL,
      servers: inv.nodes.filter((n) => n.role === 'server').map((n) => n.name),
      snapshot: o.snapshot,
      staysCordoned: new Set(plan.nodes.filter((n) => n.staysCordoned).map((n) => n.node)),
      note: (message, node) => g.journal.append({ type: 'note', run: g.run, message, ...(node ? { node } : {}) }),
      confirm: o.confirm,
      confirmedBy: o.confirmedBy,
      soakPollMs: o.soakPollMs,
      beforeNode,
      journal: g.journal,
      runId: g.run,
      beforeStep: (s) => g.beforeStep(s),
      stopRequested: () => g.stopRequested() || (o.stopRequested?.() ?? false),
      set: sucPlans(plan, { drain: inv.drain, readyTimeoutSeconds: inv.upgrade.readyTimeoutSeconds }, { run: g.run }),
    });
    await run.run();
    const result = run.result();
    await notices?.end(result);
    return executeResult(result, { run: g.run, signal: g.signal, journalFile });
  });
}

interface SucDeps extends AfterGateDeps, SoakDeps {
  /** The checks before each node (window, gates); none without them. */
  readonly beforeNode: BeforeNode | undefined;
  readonly journal: Pick<Journal, 'append'>;
  readonly runId: string;
  readonly beforeStep: (step: Step) => Promise<void>;
  readonly stopRequested: () => boolean;
  readonly set: SucPlanSet;
  readonly emit: Emit;
}

interface JobView {
  name: string;
  state: 'active' | 'complete' | 'failed';
  /** The Failed condition's reason and message. */
  why: string;
  failedPods: number;
}

function jobView(j: unknown): JobView | undefined {
  const job = j as {
    metadata?: { name?: string };
    status?: { failed?: number; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
  };
  const name = job.metadata?.name;
  if (name === undefined) return undefined;
  const conds = job.status?.conditions ?? [];
  const has = (t: string) => conds.find((c) => c.type === t && c.status === 'True');
  const failed = has('Failed');
  return {
    name,
    state: has('Complete') ? 'complete' : failed ? 'failed' : 'active',
    why: failed ? `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}` : '',
    failedPods: job.status?.failed ?? 0,
  };
}

function listItems(r: RunResult | undefined): unknown[] {
  if (!r || r.code !== 0) return [];
  const doc = parseJsonOutput(r.stdout) as { items?: unknown[] };
  return Array.isArray(doc.items) ? doc.items : [];
}

/** One run of the SUC engine: phases, nodes, what it did. */
class SucRun {
  readonly #plan: UpgradePlan;
  readonly #d: SucDeps;
  readonly #steps: Step[];
  readonly #completed: Step[] = [];
  #failed: { step: Step; error: PveK3sError } | undefined;
  #interrupted = false;
  /** The run stopped on purpose before a node (window, gate) or at the canary. */
  #stop: NodeStop | undefined;
  #index = 0;
  /** Cordoned for this run (by SUC, annotated by us) and not yet seen uncordoned; installed and not yet through the gate; snapshots to roll back to. */
  readonly #state = new RunState();
  /** `pve-k3s suc pause` was seen on a Plan. */
  #paused = false;
  readonly #started = new Map<string, number>();
  /** The SUC Job that did each node's work in this run. */
  readonly #jobs = new Map<string, { job: string; plan: string }>();

  constructor(plan: UpgradePlan, deps: SucDeps) {
    this.#plan = plan;
    this.#d = deps;
    this.#steps = planSteps(plan);
    // Nodes an earlier run cordoned: their uncordon step comes without a drain before it.
    for (const s of this.#steps)
      if (s.kind === 'uncordon' && !this.#steps.some((x) => x.node === s.node && x.kind === 'drain')) this.#state.cordoned.add(s.node);
  }

  get #stopped(): boolean {
    return this.#failed !== undefined || this.#interrupted;
  }

  #kubectl(args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
    return this.#d.kube.kubectl(args, { signal: this.#d.signal, timeoutMs });
  }

  async run(): Promise<void> {
    try {
      await this.#exclude();
      for (const [index, phase] of this.#plan.phases.entries()) {
        this.#d.emit({ kind: 'phase-start', phase, index, total: this.#plan.phases.length });
        await this.#phase(phase);
        if (this.#stopped) return;
      }
      await this.#cleanUp();
    } catch (err) {
      // Outside any step (the Plans could not be applied or deleted): the step it stopped before fails.
      const step = this.#steps.find((s) => !this.#completed.includes(s)) ?? this.#steps[this.#steps.length - 1];
      if (step) this.#fail(step, err);
      else throw err;
    }
  }

  /** Nodes cordoned before the run: SUC must not select them (it would uncordon them). */
  async #exclude(): Promise<void> {
    const cmds = this.#d.set.excluded.flatMap((e) =>
      e.plans.map((p) => ['label', 'node', e.node, `${PLAN_LABEL_PREFIX}${p}=disabled`, '--overwrite']),
    );
    if (cmds.length === 0) return;
    const rs = await this.#d.kube.batch(cmds, { signal: this.#d.signal, timeoutMs: 60_000 });
    rs.forEach((r, i) => {
      if (r.code !== 0) throw this.#d.kube.error(cmds[i]!, r);
    });
    for (const e of this.#d.set.excluded)
      this.#d.emit({
        kind: 'log',
        level: 'info',
        node: e.node,
        message: `cordoned before the run: SUC leaves it alone (labelled disabled for ${e.plans.join(', ')})`,
      });
  }

  #plansOf(phase: Phase): { server: SucPlan | undefined; agent: SucPlan | undefined } {
    const no = phase.steps[0]?.id.split('/')[0];
    const of = (role: string) =>
      this.#d.set.plans.find((p) => p.metadata.labels['pve-k3s.io/phase'] === no && p.metadata.labels['pve-k3s.io/role'] === role);
    return { server: of('server'), agent: of('agent') };
  }

  async #phase(phase: Phase): Promise<void> {
    const plans = this.#plansOf(phase);
    const applied = [plans.server, plans.agent].filter((p): p is SucPlan => p !== undefined);
    if (applied.length > 0) {
      const list = sucPlanList({ ...this.#d.set, plans: applied });
      const args = ['apply', '-f', '-'];
      const r = await this.#d.kube.kubectl(args, { stdin: JSON.stringify(list), signal: this.#d.signal, timeoutMs: 60_000 });
      if (r.code !== 0)
        throw this.#d.kube.error(args, r, { hint: 'check that system-upgrade-controller is installed: pve-k3s suc install' });
    }
    // SUC's agent Plans wait for the servers (prepare): servers first, whatever the plan's order.
    // Nodes cordoned before the run are SUC's to leave alone (labelled disabled): not run here.
    const alone = new Set(this.#plan.nodes.filter((n) => n.staysCordoned).map((n) => n.node));
    for (const n of alone)
      if (phase.steps.some((s) => s.node === n))
        this.#d.emit({
          kind: 'log',
          level: 'warn',
          node: n,
          message: `cordoned before the run: left alone at its version (upgrade it over SSH, which keeps it cordoned: pve-k3s upgrade --node ${n})`,
        });
    const groups = nodeGroups(phase.steps).filter((g) => !alone.has(g[0]!.node));
    const agents = groups.filter((g) => g[0]!.role === 'agent');
    // Servers one at a time, then a worker canary alone (the planner put it first), then the lanes.
    const oneByOne = groups.filter((g) => g[0]!.role === 'server');
    if (agents[0]?.some((s) => s.soak?.reason === 'canary')) oneByOne.push(agents.shift()!);
    for (const g of oneByOne) {
      if (this.#stopped || this.#stopNow()) return;
      await this.#node(g, g[0]!.role === 'server' ? plans.server : plans.agent);
    }
    let next = 0;
    const lane = async (): Promise<void> => {
      while (!this.#stopped && next < agents.length) {
        if (this.#stopNow()) return;
        await this.#node(agents[next++]!, plans.agent);
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, phase.concurrency), agents.length) }, lane));
  }

  /** A stop asked for (Ctrl-C, the signal, `suc pause`): no new node starts. */
  #stopNow(): boolean {
    if (this.#d.signal?.aborted || this.#d.stopRequested() || this.#paused) {
      this.#interrupted = true;
      return true;
    }
    return false;
  }

  /** One node's steps of one phase, after the checks before it (window, gates). */
  async #node(group: Step[], plan: SucPlan | undefined): Promise<void> {
    if (this.#d.beforeNode && !(await this.#beforeNode(group))) return;
    const work = group.find((s) => s.kind === 'install' || s.kind === 'restart');
    let uncordonedBySuc = false;
    for (const step of group) {
      if (this.#stopped && step === group[0]) return;
      if (this.#d.signal?.aborted) {
        this.#interrupted = true;
        return;
      }
      try {
        if (step.kind === 'drain' || step.kind === 'install') {
          // Both are done by SUC's Job: the drain step waits for it, the install step is done with it.
          if (step.kind === 'drain' || !group.some((s) => s.kind === 'drain')) {
            if (!(await this.#begin(step))) return;
            if (step.kind === 'install') this.#state.unverified.add(step.node);
            const job = await this.#job(step, plan, work);
            this.#jobs.set(step.node, { job, plan: plan!.metadata.name });
            this.#done(step, `by SUC Job ${SUC_NAMESPACE}/${job}`);
            if (step.kind === 'drain' && work?.kind === 'install') {
              if (!(await this.#begin(work))) return;
              this.#state.unverified.add(work.node);
              this.#done(work, `binary swapped and k3s restarted by SUC Job ${SUC_NAMESPACE}/${job}`);
            }
          }
        } else if (step.kind === 'restart') {
          if (!(await this.#begin(step))) return;
          this.#state.unverified.add(step.node);
          await this.#restart(step);
          this.#done(step, undefined);
        } else if (step.kind === 'wait-ready') {
          if (!(await this.#begin(step))) return;
          const hasUncordon = group.some((s) => s.kind === 'uncordon');
          uncordonedBySuc = await this.#gate(step, work !== undefined ? plan : undefined, !hasUncordon);
          this.#state.unverified.delete(step.node);
          if (uncordonedBySuc && !hasUncordon) this.#state.cordoned.delete(step.node);
          this.#done(step, undefined);
        } else if (step.kind === 'uncordon') {
          if (!(await this.#begin(step))) return;
          const note = await this.#uncordon(step, uncordonedBySuc);
          this.#done(step, note);
        } else if (step.kind === 'soak') {
          if (!(await this.#begin(step))) return;
          this.#done(step, await soak(step, this.#d, this.#state));
        }
      } catch (err) {
        this.#fail(step, err);
        // Rolled back to its old version: SUC's label of the Job done goes too, so a later run makes a new Job.
        if (plan && work) await this.#optOut(step.node, err instanceof RolledBackError);
        return;
      }
    }
  }

  /** The checks before a node (window, gates): false when the run stops there. */
  #beforeNode(group: readonly Step[]): Promise<boolean> {
    return mayStartNode(this.#d.beforeNode!, { group, deps: this.#d, run: this.#checkRun });
  }

  /** This run as the checks before a node see it. */
  readonly #checkRun: NodeCheckRun = {
    stopped: () => this.#stopped,
    interrupt: (stop) => {
      this.#stop ??= stop;
      this.#interrupted = true;
    },
    fail: (step, error) => this.#failBefore(step, error),
  };

  /** Opts the node in and waits for its Job to complete; returns the Job's name. */
  async #job(step: Step, plan: SucPlan | undefined, work: Step | undefined): Promise<string> {
    invariant(plan && work, `${step.id}: no SUC Plan for its phase`);
    const { kube, clock, signal } = this.#d;
    const P = plan.metadata.name;
    const sel = `upgrade.cattle.io/plan=${P},upgrade.cattle.io/node=${step.node}`;
    const getJobs = ['get', 'jobs.batch', '-n', SUC_NAMESPACE, '-l', sel, '-o', 'json'];
    const getPlan = ['get', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, P, '-o', 'json'];
    if (this.#d.snapshot.enabled && !isEtcdMember(this.#d.inventory, step.node)) {
      const name = snapshotName(step.version);
      const r = await takeSnapshot(this.#d.pct(step.host), { node: step.node, vmid: step.vmid, step: step.id, signal, name });
      // Where a failed gate rolls the worker back to, as over SSH.
      if (work.kind === 'install' && work.from !== undefined) this.#state.rollbackTo.set(step.node, { snapshot: name, version: work.from });
      this.#d.journal.append({
        type: 'note',
        run: this.#d.runId,
        node: step.node,
        message: `snapshot ${name} ${r === 'taken' ? 'taken' : 'exists'}`,
      });
      this.#d.emit({
        kind: 'log',
        level: 'info',
        node: step.node,
        message: `snapshot ${name} ${r === 'taken' ? 'taken' : 'already there'} before its SUC Job`,
      });
    }
    const optIn = [
      ['annotate', 'node', step.node, `${CORDON_ANNOTATION}=${work.version}`, '--overwrite'],
      ['label', 'node', step.node, `${OPT_IN_LABEL}=true`, '--overwrite'],
      getJobs,
    ];
    const rs = await kube.batch(optIn, { signal, timeoutMs: 60_000, stopOnFailure: true });
    rs.slice(0, 2).forEach((r, i) => {
      if (r.code !== 0) throw kube.error(optIn[i]!, r);
    });
    if (plan.spec.drain !== undefined || plan.spec.cordon === true) this.#state.cordoned.add(step.node);
    let jobs = listItems(rs[2])
      .map(jobView)
      .filter((j): j is JobView => j !== undefined);
    // A Job failed by an earlier run stays until its TTL: SUC makes a new one once it is gone.
    const stale = jobs.filter((j) => j.state === 'failed');
    if (stale.length > 0) {
      for (const j of stale) await this.#kubectl(['delete', 'jobs.batch', '-n', SUC_NAMESPACE, j.name]);
      jobs = [];
    }
    const started = clock.now();
    let delay = this.#d.poll.minMs;
    let job = jobs[0];
    const deadlineMs = (plan.spec.jobActiveDeadlineSecs + 60) * 1000;
    for (;;) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('aborted');
      if (!job) {
        if (clock.now() - started > JOB_APPEAR_MS) {
          const p = await this.#kubectl(getPlan);
          throw new RunError(
            `system-upgrade-controller made no Job for ${step.node} within ${JOB_APPEAR_MS / 1000}s of opting it in to Plan ${SUC_NAMESPACE}/${P}`,
            {
              node: step.node,
              step: step.id,
              hint: `look at the Plan and the controller: kubectl -n ${SUC_NAMESPACE} describe plan ${P}; kubectl -n ${SUC_NAMESPACE} logs deploy/system-upgrade-controller`,
              detail: p.stdout || failureReason(p),
            },
          );
        }
        await clock.sleep(delay, signal);
        delay = Math.min(this.#d.poll.maxMs, Math.round(delay * 1.5));
        const [j, p] = await kube.batch([getJobs, getPlan], { signal, timeoutMs: 60_000 });
        this.#seePlan(p);
        job = listItems(j)
          .map(jobView)
          .find((x) => x !== undefined && x.state !== 'failed');
        continue;
      }
      const left = deadlineMs - (clock.now() - started);
      const chunk = Math.max(1, Math.min(WAIT_CHUNK_S, Math.ceil(left / 1000)));
      const wait = ['wait', '-n', SUC_NAMESPACE, '--for=condition=Complete', `jobs.batch/${job.name}`, `--timeout=${chunk}s`];
      const [w, j, p] = await kube.batch([wait, ['get', 'jobs.batch', '-n', SUC_NAMESPACE, job.name, '-o', 'json'], getPlan], {
        signal,
        timeoutMs: chunk * 1000 + 60_000,
      });
      this.#seePlan(p);
      if (w!.code === 0) return job.name;
      const seen = j && j.code === 0 ? jobView(parseJsonOutput(j.stdout)) : undefined;
      if (!seen) {
        const why = classifyKubectl(j?.code ?? 1, j?.stderr ?? '', j?.stdout ?? '').reason;
        if (why === 'not-found') {
          if (this.#paused) throw new InterruptedError(`${step.node}: its SUC Job ${job.name} was deleted after \`pve-k3s suc pause\``);
          throw new RunError(`the SUC Job ${SUC_NAMESPACE}/${job.name} for ${step.node} was deleted before it completed`, {
            node: step.node,
            step: step.id,
            hint: 'someone deleted the Job or the Plan (pve-k3s abandon, kubectl delete); see pve-k3s status, then pve-k3s resume',
          });
        }
        if (!TRANSIENT.has(why)) throw kube.error(wait, w!);
        // The API is away (a server's k3s restarting, the controller's among them): ask again.
        this.#d.emit({
          kind: 'wait',
          step,
          message: `API not answering (${why}) while SUC Job ${job.name} runs`,
          elapsedMs: clock.now() - started,
        });
        if (clock.now() - started > deadlineMs) throw kube.error(wait, w!);
        await clock.sleep(delay, signal);
        delay = Math.min(this.#d.poll.maxMs, Math.round(delay * 1.5));
        continue;
      }
      if (seen.state === 'failed') throw await this.#jobFailed(step, seen);
      if (seen.state === 'complete') return job.name;
      const elapsed = clock.now() - started;
      this.#d.emit({
        kind: 'wait',
        step,
        message: `SUC Job ${job.name} running${seen.failedPods > 0 ? ` (${seen.failedPods} pod(s) failed, retrying)` : ''}`,
        elapsedMs: elapsed,
      });
      if (elapsed > deadlineMs)
        throw new RunError(`the SUC Job ${SUC_NAMESPACE}/${job.name} for ${step.node} did not finish within its deadline`, {
          node: step.node,
          step: step.id,
        });
    }
  }

  /** A failed Job's error: the Job's reason and its pod's log. */
  async #jobFailed(step: Step, job: JobView): Promise<RunError> {
    const logs = await this.#kubectl(['logs', '-n', SUC_NAMESPACE, `jobs.batch/${job.name}`, '--all-containers']);
    const log = (logs.code === 0 ? logs.stdout : failureReason(logs)).trimEnd();
    const tail = log
      .split('\n')
      .slice(-10)
      .map((l) => `    ${l}`)
      .join('\n');
    return new RunError(`the SUC Job ${SUC_NAMESPACE}/${job.name} failed on ${step.node}: ${job.why}`, {
      node: step.node,
      step: step.id,
      hint: `its pod's log ends:\n${tail}\n  all of it: kubectl -n ${SUC_NAMESPACE} logs jobs.batch/${job.name} --all-containers; fix the cause, then \`pve-k3s resume\` (it starts a new Job), or \`pve-k3s abandon\``,
      detail: log,
    });
  }

  #seePlan(r: RunResult | undefined): void {
    if (!r || r.code !== 0) return;
    const p = parseJsonOutput(r.stdout) as { metadata?: { annotations?: Record<string, string> } };
    if (p.metadata?.annotations?.[PAUSED_ANNOTATION] === 'true') this.#paused = true;
  }

  /** The health gate at the phase's version; the same round trip opts the node out again. Returns whether the node is schedulable now. */
  async #gate(step: Step, plan: SucPlan | undefined, last: boolean): Promise<boolean> {
    const viaSuc = plan !== undefined;
    const after = [
      ...(viaSuc ? [['label', 'node', step.node, `${OPT_IN_LABEL}-`]] : []),
      // No uncordon step follows (the plan did not cordon it; SUC's cordon ends with its Job).
      ...(viaSuc && last ? [['annotate', 'node', step.node, `${CORDON_ANNOTATION}-`]] : []),
      ['get', 'node', step.node, '-o', 'json'],
      // The Plan again, just before the next node is opted in: was the run paused meanwhile?
      ...(viaSuc ? [['get', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, plan.metadata.name, '-o', 'json']] : []),
    ];
    const timeoutMs = this.#d.inventory.upgrade.readyTimeoutSeconds * 1000;
    const gate = await waitHealthy(step, this.#d, {
      version: step.version,
      timeoutMs,
      servers: this.#d.servers,
      ...(step.role === 'agent' ? { tail: after } : {}),
    });
    // A worker with a snapshot of this run is rolled back to it, as over SSH.
    if (!gate.healthy)
      throw await gateFailure(step, this.#d, { state: this.#state, timeoutMs, lastSeen: gate.lastSeen, again: 'pve-k3s resume' });
    const results = step.role === 'agent' ? gate.tail : await this.#d.kube.batch(after, { signal: this.#d.signal, timeoutMs: 60_000 });
    await pruneAfterGate(step, this.#d, this.#state);
    if (viaSuc) this.#seePlan(results[results.length - 1]);
    const node = results[results.length - (viaSuc ? 2 : 1)];
    if (!node || node.code !== 0) return false;
    const n = parseJsonOutput(node.stdout) as { spec?: { unschedulable?: boolean } };
    return n.spec?.unschedulable !== true;
  }

  async #uncordon(step: Step, schedulable: boolean): Promise<string | undefined> {
    const drop = ['annotate', 'node', step.node, `${CORDON_ANNOTATION}-`];
    if (schedulable) {
      const r = await this.#kubectl(drop);
      if (r.code !== 0) throw this.#d.kube.error(drop, r);
      this.#state.cordoned.delete(step.node);
      return 'uncordoned by SUC when its Job completed';
    }
    const [u, a] = await this.#d.kube.batch([['uncordon', step.node], drop], {
      signal: this.#d.signal,
      timeoutMs: 60_000,
      stopOnFailure: true,
    });
    if (u!.code !== 0) throw this.#d.kube.error(['uncordon', step.node], u!);
    if (a!.code !== 0) throw this.#d.kube.error(drop, a!);
    this.#state.cordoned.delete(step.node);
    return undefined;
  }

  /** A node whose binary is new but whose k3s still runs the old one: SUC would not restart it; pve-k3s does. */
  async #restart(step: Step): Promise<void> {
    const r = await this.#d
      .pct(step.host)
      .exec(step.vmid, ['systemctl', 'restart', SERVICE[step.role]], { signal: this.#d.signal, timeoutMs: 5 * 60_000 });
    if (r.code !== 0)
      throw new RunError(`restarting ${SERVICE[step.role]} in ${step.node} failed: ${failureReason(r)}`, {
        node: step.node,
        step: step.id,
        detail: r.stdout + r.stderr,
      });
  }

  /**
   * After a failure: SUC must not retry this node by itself (a failed Job is made again after its
   * TTL). A node rolled back to its old version also loses its completed Job and SUC's label of
   * it (`plan.upgrade.cattle.io/<plan>=<hash>`), after the opt-in label so SUC cannot act in
   * between: the next run's Job is made again instead of SUC taking the node as done.
   */
  async #optOut(node: string, rolledBack: boolean): Promise<void> {
    const done = rolledBack ? this.#jobs.get(node) : undefined;
    const cmds = [
      ['label', 'node', node, `${OPT_IN_LABEL}-`],
      ...(done
        ? [
            ['delete', 'jobs.batch', '-n', SUC_NAMESPACE, done.job],
            ['label', 'node', node, `${PLAN_LABEL_PREFIX}${done.plan}-`],
          ]
        : []),
    ];
    try {
      await this.#d.kube.batch(cmds, { signal: this.#d.signal, timeoutMs: 60_000 });
    } catch {
      // The run already failed; status shows the labels.
    }
  }

  /**
   * The run completed: our Plans go, and SUC's labels of them on the nodes (`disabled`, or the
   * hash of a Job done): a later run's Plan of the same name must not find them.
   */
  async #cleanUp(): Promise<void> {
    const cmds: string[][] = [['delete', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, '-l', ourPlansSelector(this.#plan.cluster)]];
    const keys = this.#d.set.plans.map((p) => `${PLAN_LABEL_PREFIX}${p.metadata.name}-`);
    if (keys.length > 0) for (const n of this.#plan.nodes) cmds.push(['label', 'node', n.node, ...keys]);
    const rs = await this.#d.kube.batch(cmds, { signal: this.#d.signal, timeoutMs: 60_000 });
    if (rs[0]!.code !== 0) throw this.#d.kube.error(cmds[0]!, rs[0]!);
    this.#d.emit({
      kind: 'log',
      level: 'info',
      message: `deleted the SUC Plans of ${this.#plan.cluster} (${this.#d.set.plans.map((p) => p.metadata.name).join(', ') || 'none'})`,
    });
  }

  async #begin(step: Step): Promise<boolean> {
    try {
      await this.#d.beforeStep(step);
    } catch (err) {
      this.#failBefore(step, err);
      return false;
    }
    this.#d.emit({ kind: 'step-start', step, index: this.#index++, total: this.#steps.length });
    this.#record({ type: 'step-start', run: this.#d.runId, step: step.id, node: step.node });
    this.#started.set(step.id, this.#d.clock.now());
    return true;
  }

  #done(step: Step, note: string | undefined): void {
    const ms = this.#d.clock.now() - (this.#started.get(step.id) ?? this.#d.clock.now());
    this.#completed.push(step);
    this.#record({ type: 'step-done', run: this.#d.runId, step: step.id, ms, ...(note ? { note } : {}) });
    this.#d.emit({ kind: 'step-done', step, ms, ...(note ? { note } : {}) });
  }

  /** The guard or a check refused before the step started (lease lost, a gate that threw): not journaled, the run stops. */
  #failBefore(step: Step, err: unknown): void {
    const error = asPveError(err, step);
    this.#failed ??= { step, error };
    this.#d.emit({ kind: 'step-failed', step, error });
  }

  #fail(step: Step, err: unknown): void {
    const aborted = this.#d.signal?.aborted ?? false;
    const interrupted = aborted || err instanceof InterruptedError;
    const error = aborted ? new InterruptedError(`interrupted during ${step.id}`, { cause: err }) : asPveError(err, step);
    if (interrupted && !aborted) {
      this.#interrupted = true;
    } else this.#failed ??= { step, error };
    this.#interrupted ||= aborted;
    // A canary not confirmed: stopped on purpose, resumable (as over SSH).
    if (error instanceof PolicyStop) {
      this.#interrupted = true;
      this.#stop ??= { message: error.message, hint: error.hint ?? '' };
    }
    if (error instanceof RolledBackError) this.#state.unverified.delete(step.node);
    this.#record({ type: 'step-failed', run: this.#d.runId, step: step.id, message: error.message, interrupted: this.#interrupted });
    this.#d.emit({ kind: 'step-failed', step, error });
  }

  #record(r: JournalRecord): void {
    this.#d.journal.append(r);
  }

  result(): RunPlanResult {
    const done = new Set(this.#completed.map((s) => s.id));
    return {
      ok: !this.#stopped,
      completed: this.#completed,
      failed: this.#failed,
      remaining: this.#steps.filter((s) => !done.has(s.id)),
      leftCordoned: [...this.#state.cordoned].filter((n) => !this.#d.staysCordoned.has(n)),
      midUpgrade: [...this.#state.unverified],
      interrupted: this.#interrupted,
      ...(this.#stop ? { stopped: this.#stop } : {}),
    };
  }
}
