/**
 * runPlan(): executes an UpgradePlan as written. Phase by phase; in a phase, each server alone
 * and each run of consecutive workers through a sliding window of the phase's `concurrency`;
 * each node's steps in order, journaled and reported as typed events. It stops at the first
 * failure, or between nodes when asked to stop (first Ctrl-C); the abort signal (second Ctrl-C)
 * cancels the step in flight. The result lists the nodes the run left cordoned or mid-upgrade,
 * so the CLI can say exactly how to fix them.
 */
import { systemClock, type Clock } from '../../domain/clock.js';
import { InterruptedError, invariant, type PveK3sError } from '../../domain/errors.js';
import type { Emit } from '../../domain/events.js';
import type { KubeNodeFacts } from '../../domain/facts.js';
import { planSteps, type Phase, type Step, type UpgradePlan } from '../../domain/plan.js';
import type { Inventory } from '../../inventory/types.js';
import { Kube } from '../../kube/kube.js';
import type { Journal, JournalRecord } from '../../operation/journal.js';
import { PctPool, type Pct } from '../../proxmox/pct.js';
import type { Shell } from '../../shell/shell.js';
import { RunState, type RunDeps } from './context.js';
import { DEFAULT_POLL } from './health-gate.js';
import { Prefetcher } from './prefetch.js';
import { asPveError, RolledBackError, runStep } from './steps.js';
import { PolicyStop } from './soak.js';
import { mayStartNode, type BeforeNode, type NodeCheckRun, type NodeStop } from './between-nodes.js';
import { applyUncordon, uncordon, uncordonCommands, uncordonsWithGate } from './uncordon.js';
import { waitReadyWith } from './wait-ready.js';

export { CORDON_ANNOTATION } from '../../domain/facts.js';

export interface RunPlanOptions {
  inventory: Inventory;
  /** One Shell per Proxmox host, by host name. */
  shells: ReadonlyMap<string, Shell>;
  /** Progress events. @default none */
  emit?: Emit;
  /** Cancels the step in flight. */
  signal?: AbortSignal;
  /** Checked between nodes: when it returns true the run stops cleanly. */
  stopRequested?: () => boolean;
  /** Readiness poll bounds. @default {minMs: 200, maxMs: 1000} */
  poll?: { minMs: number; maxMs: number };
  /** Records every step before and after it runs. @default none */
  journal?: { journal: Pick<Journal, 'append'>; run: string };
  /** Awaited before each step starts (the cluster's run record says it is in flight); a throw stops the run before it. */
  beforeStep?: (step: Step) => Promise<void>;
  /** Run container commands through sessions (one `pct exec ... sh -s` per container, see shell/session.ts). @default true */
  sessions?: boolean;
  /**
   * The Pct of each host, when the caller made them (with sessions, some already warm: the
   * controller's opened while the lease was being taken). The run closes their sessions.
   * @default one made per host, with `sessions`
   */
  pcts?: PctPool;
  /** Snapshot each container before its install (never embedded-etcd members). @default the inventory's upgrade.snapshot */
  snapshot?: { enabled: boolean; retention: number };
  /** Time and waiting. @default the system clock */
  clock?: Clock;
  /** Asks the operator to confirm the canary; absent = nobody to ask (a canary confirmation then stops the run). */
  confirm?: (question: string) => Promise<boolean>;
  /** How a yes is given, for the journal. @default "confirmed" */
  confirmedBy?: string;
  /** Time between the looks of a soak. @default 10 s */
  soakPollMs?: number;
  /**
   * Awaited before each node starts (maintenance window, alert and pod gates): undefined to
   * go on, or why the run stops there (cleanly, resumable).
   */
  beforeNode?: BeforeNode;
}

export type { NodeStop } from './between-nodes.js';

export interface RunPlanResult {
  ok: boolean;
  completed: Step[];
  failed: { step: Step; error: PveK3sError } | undefined;
  /** Steps never started. */
  remaining: Step[];
  /** Nodes cordoned by pve-k3s and not uncordoned (by this run or an earlier one). */
  leftCordoned: string[];
  /** Nodes whose install/restart ran (or was in flight) without passing the health gate: they may run either version. */
  midUpgrade: string[];
  interrupted: boolean;
  /** The run stopped on purpose before a node (window, gate) or at the canary's confirmation. */
  stopped?: NodeStop | undefined;
  /**
   * The cluster's nodes, read over the controller's open session once every step was done
   * (the final table needs no new probe: factsAfterRun); undefined when the run did not finish
   * or the read failed.
   */
  finalNodes?: Map<string, KubeNodeFacts> | undefined;
}

/**
 * Executes an UpgradePlan as written: phase by phase, node by node, each node's steps in order,
 * emitting progress events. It never throws for what happens on the cluster: a failed step
 * ends the run and is in the result, with the nodes left cordoned or mid-upgrade.
 */
export async function runPlan(plan: UpgradePlan, opts: RunPlanOptions): Promise<RunPlanResult> {
  const run = new PlanRun(plan, opts);
  try {
    await run.phases();
    await run.finalRead();
  } finally {
    await run.close();
  }
  return run.result();
}

/** Splits a phase's steps into one group per node (they are contiguous in a plan). */
export function nodeGroups(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  for (const s of steps) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.node === s.node) last.push(s);
    else groups.push([s]);
  }
  return groups;
}

/**
 * Runs of consecutive worker groups (which may overlap), and each server group alone. The
 * canary's group goes alone too, even with --parallel: the rest wait for its verdict (its
 * health gate, then its soak or confirmation), so no other node may be in flight beside it.
 */
export function segments(groups: readonly Step[][], canary?: string): Step[][][] {
  const out: Step[][][] = [];
  const alone = (g: readonly Step[]) => g[0]!.role !== 'agent' || g[0]!.node === canary;
  for (const g of groups) {
    const last = out[out.length - 1];
    if (!alone(g) && last && !alone(last[0]!)) last.push(g);
    else out.push([g]);
  }
  return out;
}

/** Nodes an earlier run cordoned: their uncordon step comes without a drain of their own before it. */
function cordonedBefore(plan: UpgradePlan): string[] {
  const drained = new Set<string>();
  const out = new Set<string>();
  for (const s of planSteps(plan)) {
    if (s.kind === 'drain') drained.add(s.node);
    if (s.kind === 'uncordon' && !drained.has(s.node)) out.add(s.node);
  }
  return [...out];
}

/** One execution of a plan: the run's dependencies and state, and what it has done so far. */
class PlanRun {
  readonly #plan: UpgradePlan;
  readonly #opts: RunPlanOptions;
  readonly #deps: RunDeps;
  readonly #state: RunState;
  readonly #pcts: PctPool;
  readonly #steps: Step[];
  readonly #completed: Step[] = [];
  #failed: RunPlanResult['failed'];
  #interrupted = false;
  #stop: NodeStop | undefined;
  #index = 0;
  #finalNodes: Map<string, KubeNodeFacts> | undefined;
  /** Sessions of nodes that are done, ending in the background. */
  readonly #closing: Promise<void>[] = [];

  constructor(plan: UpgradePlan, opts: RunPlanOptions) {
    this.#plan = plan;
    this.#opts = opts;
    this.#pcts = opts.pcts ?? new PctPool(opts.shells, { sessions: opts.sessions ?? true });
    this.#steps = planSteps(plan);
    this.#state = new RunState(cordonedBefore(plan));
    this.#deps = this.#makeDeps();
  }

  #makeDeps(): RunDeps {
    const { inventory, signal } = this.#opts;
    const pct = (host: string) => this.#pct(host);
    const controller = inventory.nodes.find((n) => n.name === this.#plan.controller);
    invariant(controller, `controller ${this.#plan.controller} is not in the inventory`);
    const kube = new Kube(pct(controller.host), controller.vmid, controller.name);
    // The controller keeps a spare session, so a read ahead never makes the next drain open one.
    kube.pct.warm(controller.vmid, { spare: true });
    const { installScriptUrl } = inventory.k3s;
    return {
      inventory,
      kube,
      pct,
      emit: this.#opts.emit ?? (() => {}),
      signal,
      clock: this.#opts.clock ?? systemClock,
      poll: this.#opts.poll ?? DEFAULT_POLL,
      servers: inventory.nodes.filter((n) => n.role === 'server').map((n) => n.name),
      snapshot: this.#opts.snapshot ?? { enabled: inventory.upgrade.snapshot, retention: inventory.upgrade.snapshotRetention },
      staysCordoned: new Set(this.#plan.nodes.filter((n) => n.staysCordoned).map((n) => n.node)),
      note: (message, node) => this.#record({ type: 'note', run: this.#runId, message, ...(node ? { node } : {}) }),
      readAhead: new Prefetcher({ kube, pct, signal, installScriptUrl }),
      confirm: this.#opts.confirm,
      confirmedBy: this.#opts.confirmedBy,
      soakPollMs: this.#opts.soakPollMs,
    };
  }

  /** Sessions: each container pays pct exec's start once per run, not once per command. */
  #pct(host: string): Pct {
    return this.#pcts.pct(host);
  }

  get #runId(): string {
    return this.#opts.journal?.run ?? '';
  }

  #record(r: JournalRecord): void {
    this.#opts.journal?.journal.append(r);
  }

  /** A failure, or a stop or abort asked for: no new node starts. */
  get #stopped(): boolean {
    return this.#failed !== undefined || this.#interrupted;
  }

  async phases(): Promise<void> {
    for (const [index, phase] of this.#plan.phases.entries()) {
      this.#deps.emit({ kind: 'phase-start', phase, index, total: this.#plan.phases.length });
      const groups = nodeGroups(phase.steps);
      for (const segment of segments(groups, this.#plan.policy?.canary?.node)) {
        await this.#segment(phase, segment, groups);
        if (this.#stopped) return;
      }
    }
  }

  /**
   * Servers go alone; a run of consecutive workers goes through a window of the phase's
   * concurrency, the next one starting as soon as one finishes. A stop request is honoured
   * between nodes, never half way through one; after a failure, nodes in flight finish.
   */
  async #segment(phase: Phase, segment: Step[][], groups: Step[][]): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (!this.#stopped && next < segment.length) {
        if (this.#opts.signal?.aborted || this.#opts.stopRequested?.()) {
          this.#interrupted = true;
          return;
        }
        const group = segment[next++]!;
        if (this.#opts.beforeNode && !(await this.#beforeNode(group))) return;
        await this.#node(group, groups[groups.indexOf(group) + 1]);
      }
    };
    const width = segment[0]![0]!.role === 'agent' ? phase.concurrency : 1;
    await Promise.all(Array.from({ length: Math.min(width, segment.length) }, lane));
  }

  /** One node's steps of one phase, with the next node's read ahead started alongside. */
  async #node(group: Step[], following: Step[] | undefined): Promise<void> {
    this.#deps.readAhead.nodes([group, following]);
    for (let i = 0; i < group.length; i++) {
      if (this.#opts.signal?.aborted) {
        this.#interrupted = true;
        break;
      }
      const step = group[i]!;
      const after = group[i + 1];
      // This node is drained: what the next drain will move can be read now.
      if (step.kind === 'install' || step.kind === 'restart') this.#deps.readAhead.drainCheck(following);
      const fused = step.kind === 'wait-ready' && after?.kind === 'uncordon' && uncordonsWithGate(after, this.#deps, this.#state);
      const ok = fused ? await this.#gateAndUncordon(step, after) : await this.#step(step);
      if (!ok) break;
      if (fused) i++;
    }
    const first = group[0]!;
    // Its session ends beside the next node's start (the pool forgets it at once); close() waits for it.
    if (first.node !== this.#plan.controller) this.#closing.push(this.#pct(first.host).closeSessions(first.vmid));
  }

  /** The policy's hook before a node (window, gates): false when the run stops there. */
  #beforeNode(group: readonly Step[]): Promise<boolean> {
    return mayStartNode(this.#opts.beforeNode!, { group, deps: this.#deps, run: this.#checkRun });
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

  /** Before a step: the guard's hook (the run record, the lease); false when it refused. */
  async #before(step: Step): Promise<boolean> {
    if (!this.#opts.beforeStep) return true;
    try {
      await this.#opts.beforeStep(step);
      return true;
    } catch (err) {
      this.#failBefore(step, err);
      return false;
    }
  }

  /** One step, journaled and reported; false when it failed. */
  async #step(step: Step): Promise<boolean> {
    if (!(await this.#before(step))) return false;
    const started = this.#begin(step);
    try {
      this.#done(step, started, await runStep(step, this.#deps, this.#state));
      return true;
    } catch (err) {
      this.#fail(step, err);
      return false;
    }
  }

  /**
   * A worker's health gate and its uncordon in one round trip, each its own journaled step: the
   * uncordon's start is recorded before the round trip that may do it, its end after.
   */
  async #gateAndUncordon(gate: Step, unc: Step): Promise<boolean> {
    if (!(await this.#before(gate))) return false;
    const started = this.#begin(gate);
    this.#record({ type: 'step-start', run: this.#runId, step: unc.id, node: unc.node });
    let uncordoned = false;
    try {
      await waitReadyWith(gate, this.#deps, {
        state: this.#state,
        tail: uncordonCommands(unc.node),
        onHealthy: (tail) => (uncordoned = applyUncordon(unc, { deps: this.#deps, state: this.#state }, tail)),
      });
    } catch (err) {
      this.#fail(gate, err);
      // Journaled as started: it ends here, never run (the round trip stops at the failed gate).
      this.#record({
        type: 'step-failed',
        run: this.#runId,
        step: unc.id,
        message: `not run: ${gate.id} failed`,
        interrupted: this.#interrupted,
      });
      return false;
    }
    this.#done(gate, started, undefined);
    this.#deps.emit({ kind: 'step-start', step: unc, index: this.#index++, total: this.#steps.length });
    if (uncordoned) {
      this.#done(unc, this.#deps.clock.now(), 'in the round trip of its health gate');
      return true;
    }
    // The uncordon in the gate's round trip failed: once more on its own, whose error is reported.
    const again = this.#deps.clock.now();
    try {
      this.#done(unc, again, await uncordon(unc, this.#deps, this.#state));
      return true;
    } catch (err) {
      this.#fail(unc, err);
      return false;
    }
  }

  #begin(step: Step): number {
    this.#deps.emit({ kind: 'step-start', step, index: this.#index++, total: this.#steps.length });
    this.#record({ type: 'step-start', run: this.#runId, step: step.id, node: step.node });
    if (step.kind === 'install' || step.kind === 'restart') this.#state.unverified.add(step.node);
    return this.#deps.clock.now();
  }

  #done(step: Step, started: number, note: string | undefined): void {
    const ms = this.#deps.clock.now() - started;
    this.#completed.push(step);
    if (step.kind === 'wait-ready') this.#state.unverified.delete(step.node);
    this.#record({ type: 'step-done', run: this.#runId, step: step.id, ms, ...(note ? { note } : {}) });
    this.#deps.emit({ kind: 'step-done', step, ms, ...(note ? { note } : {}) });
  }

  #fail(step: Step, err: unknown): void {
    const aborted = this.#opts.signal?.aborted ?? false;
    const error = aborted ? new InterruptedError(`interrupted during ${step.id}`, { cause: err }) : asPveError(err, step);
    this.#failed ??= { step, error };
    this.#interrupted ||= aborted;
    if (error instanceof PolicyStop) {
      this.#interrupted = true;
      this.#stop ??= { message: error.message, hint: error.hint ?? '' };
    }
    if (error instanceof RolledBackError) this.#state.unverified.delete(step.node);
    else if (step.kind === 'wait-ready') this.#state.unverified.add(step.node);
    this.#record({ type: 'step-failed', run: this.#runId, step: step.id, message: error.message, interrupted: this.#interrupted });
    this.#deps.emit({ kind: 'step-failed', step, error });
  }

  /** The guard refused the step before it started (lease lost): it is not journaled, the run stops. */
  #failBefore(step: Step, err: unknown): void {
    const error = asPveError(err, step);
    this.#failed ??= { step, error };
    this.#deps.emit({ kind: 'step-failed', step, error });
  }

  /** A finished run reads the nodes once more, on the controller's session still open: one command, no pct start. */
  async finalRead(): Promise<void> {
    if (this.#stopped || this.#steps.length === 0) return;
    try {
      this.#finalNodes = await this.#deps.kube.nodes({ ...(this.#opts.signal ? { signal: this.#opts.signal } : {}), timeoutMs: 30_000 });
    } catch {
      // Only the final table wants it: the CLI probes again instead.
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#closing);
    await this.#pcts.closeSessions();
  }

  result(): RunPlanResult {
    const done = new Set(this.#completed.map((s) => s.id));
    return {
      ok: !this.#stopped,
      completed: this.#completed,
      failed: this.#failed,
      remaining: this.#steps.filter((s) => !done.has(s.id)),
      leftCordoned: [...this.#state.cordoned],
      midUpgrade: [...this.#state.unverified],
      interrupted: this.#interrupted,
      ...(this.#stop ? { stopped: this.#stop } : {}),
      ...(this.#finalNodes ? { finalNodes: this.#finalNodes } : {}),
    };
  }
}
