/**
 * runPlan(): executes an UpgradePlan one node at a time (workers up to `parallel` at once, in a
 * sliding window),
 * each node's steps in order, emitting progress events. It stops at the first failure, or
 * between nodes when asked to stop (first Ctrl-C); an abort signal
 * (second Ctrl-C) cancels the step in flight. The result always lists the nodes this run left
 * cordoned, so the CLI can say exactly how to fix them.
 */
import { CORDON_ANNOTATION } from '../../domain/facts.js';
import type { PveK3sError } from '../../domain/errors.js';
import { InterruptedError, invariant } from '../../domain/errors.js';
import { planSteps, type Step, type UpgradePlan } from '../../domain/plan.js';
import type { Inventory } from '../../inventory/types.js';
import { Kube } from '../../kube/kube.js';
import { Pct } from '../../proxmox/pct.js';
import type { Shell } from '../../shell/shell.js';
import type { Emit } from '../../domain/events.js';
import { DRAIN_CHECK_COMMANDS } from './drain-check.js';
import { asPveError, readInstallConfig, RolledBackError, runStep, type StepContext } from './steps.js';
import type { Journal, JournalRecord } from '../../operation/journal.js';

export interface RunPlanOptions {
  inventory: Inventory;
  shells: ReadonlyMap<string, Shell>;
  emit?: Emit;
  /** Cancels the step in flight. */
  signal?: AbortSignal;
  /** Checked between steps: when it returns true the run stops cleanly. */
  stopRequested?: () => boolean;
  /** Readiness poll bounds. @default {minMs: 200, maxMs: 1000} */
  poll?: { minMs: number; maxMs: number };
  /** Records every step before and after it runs. @default none */
  journal?: { journal: Pick<Journal, 'append'>; run: string };
  /** Upgrade up to this many workers at once (never more than the cluster can spare: one
   *  schedulable worker always stays up). Servers always go one at a time. @default 1 */
  parallel?: number;
  /** Run container commands through sessions (one `pct exec ... sh -s` per container, see shell/session.ts). @default true */
  sessions?: boolean;
  /** Snapshot each container before its install (never embedded-etcd members). @default the inventory's upgrade.snapshot */
  snapshot?: { enabled: boolean; retention: number };
}

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
}

/**
 * Executes an UpgradePlan as written: phase by phase, node by node, each node's steps in order,
 * emitting progress events. It never throws for what happens on the cluster: a failed step
 * ends the run and is in the result, with the nodes left cordoned or mid-upgrade.
 */
export async function runPlan(plan: UpgradePlan, opts: RunPlanOptions): Promise<RunPlanResult> {
  const { inventory, shells } = opts;
  const emit: Emit = opts.emit ?? (() => {});
  const run = opts.journal?.run ?? '';
  const record = (r: JournalRecord) => opts.journal?.journal.append(r);
  const pcts = new Map<string, Pct>();
  const pct = (host: string): Pct => {
    let p = pcts.get(host);
    if (!p) {
      const shell = shells.get(host);
      invariant(shell, `no shell for Proxmox host ${host}`);
      // Sessions: each container pays pct exec's start once per run, not once per command.
      p = new Pct(shell, { sessions: opts.sessions ?? true });
      pcts.set(host, p);
    }
    return p;
  };
  const controller = inventory.nodes.find((n) => n.name === plan.controller);
  invariant(controller, `controller ${plan.controller} is not in the inventory`);
  const kube = new Kube(pct(controller.host), controller.vmid, controller.name);
  const stays = new Set(plan.nodes.filter((n) => n.staysCordoned).map((n) => n.node));
  // Nodes an earlier interrupted run cordoned: the plan uncordons them, until then they are ours.
  const cordoned = new Set(
    planSteps(plan)
      .filter((s) => s.id.startsWith('0/') && s.kind === 'uncordon')
      .map((s) => s.node),
  );
  const ctx: StepContext = {
    inventory,
    kube,
    pct,
    emit,
    signal: opts.signal,
    poll: opts.poll ?? { minMs: 200, maxMs: 1000 },
    staysCordoned: (n) => stays.has(n),
    cordoned,
    snapshot: opts.snapshot ?? { enabled: inventory.upgrade.snapshot, retention: inventory.upgrade.snapshotRetention },
    snapshots: new Map(),
    fromVersion: new Map(),
    journalNote: (message, node) => record({ type: 'note', run, message, ...(node ? { node } : {}) }),
    prefetched: new Map(),
    drainChecks: new Map(),
    uncordonedByRun: new Set(),
    uncordonedWithGate: new Set(),
  };

  const steps = planSteps(plan);
  const completed: Step[] = [];
  let index = 0;
  let failed: RunPlanResult['failed'];
  let interrupted = false;
  // Installed (or restarted) and not yet through the health gate.
  const unverified = new Set<string>();
  const width = parallelWidth(opts.parallel ?? 1, inventory, stays, emit);

  /** One node's steps of one phase, in order; false when a step failed. */
  const runNode = async (group: Step[], next?: Step[]): Promise<boolean> => {
    for (const step of group) {
      if (opts.signal?.aborted) {
        interrupted = true;
        return false;
      }
      // This node is drained: what the next drain will move can be read now.
      if (step.kind === 'install' || step.kind === 'restart') readDrainCheckAhead(next);
      emit({ kind: 'step-start', step, index: index++, total: steps.length });
      record({ type: 'step-start', run, step: step.id, node: step.node });
      if (step.kind === 'install' || step.kind === 'restart') unverified.add(step.node);
      const started = Date.now();
      try {
        const note = await runStep(step, ctx);
        completed.push(step);
        if (step.kind === 'wait-ready') unverified.delete(step.node);
        record({ type: 'step-done', run, step: step.id, ms: Date.now() - started, ...(note ? { note } : {}) });
        emit({ kind: 'step-done', step, ms: Date.now() - started, ...(note ? { note } : {}) });
      } catch (err) {
        const error = opts.signal?.aborted ? new InterruptedError(`interrupted during ${step.id}`, { cause: err }) : asPveError(err, step);
        failed ??= { step, error };
        interrupted ||= opts.signal?.aborted ?? false;
        if (error instanceof RolledBackError) unverified.delete(step.node);
        else if (step.kind === 'wait-ready') unverified.add(step.node);
        record({ type: 'step-failed', run, step: step.id, message: error.message, interrupted });
        emit({ kind: 'step-failed', step, error });
        return false;
      }
    }
    return true;
  };

  /** Starts the next node's pre-drain reads (pods, PDBs, nodes) while this one upgrades. */
  const readDrainCheckAhead = (group: Step[] | undefined): void => {
    const drain = group?.[0]?.kind === 'drain' ? group[0] : undefined;
    if (!drain || ctx.drainChecks!.has(drain.node)) return;
    const p = kube.batch(DRAIN_CHECK_COMMANDS, { signal: opts.signal, timeoutMs: 60_000 });
    p.catch(() => {}); // a failed read ahead is read again by the drain itself
    ctx.drainChecks!.set(drain.node, p);
  };

  /** Starts reading the install configs of these nodes (during a drain, or the previous node's upgrade), and opens their sessions. */
  const readAhead = (groups: readonly (Step[] | undefined)[]): void => {
    for (const group of groups) {
      if (!group) continue;
      const first = group[0];
      if (first) pct(first.host).warm(first.vmid);
      const install = group.find((s) => s.kind === 'install');
      if (!install || ctx.prefetched!.has(install.node)) continue;
      const p = readInstallConfig(pct(install.host), install, opts.signal, inventory.k3s.installScriptUrl);
      p.catch(() => {}); // a failed read ahead is retried by the install step itself
      ctx.prefetched!.set(install.node, p);
    }
  };

  kube.pct.warm(controller.vmid, { spare: true });
  try {
    await runPhases();
  } finally {
    await Promise.all([...pcts.values()].map((p) => p.closeSessions()));
  }

  async function runPhases(): Promise<void> {
    for (const [pi, phase] of plan.phases.entries()) {
      emit({ kind: 'phase-start', phase, index: pi, total: plan.phases.length });
      // Servers go alone; a run of consecutive workers goes through a window of `width` nodes,
      // the next one starting as soon as one finishes. A stop request is honoured between nodes,
      // never half way through one; after a failure, nodes in flight finish and no new one starts.
      const groups = nodeGroups(phase.steps);
      for (const segment of segments(groups)) {
        let next = 0;
        const lane = async (): Promise<void> => {
          while (!failed && !interrupted && next < segment.length) {
            if (opts.signal?.aborted || opts.stopRequested?.()) {
              interrupted = true;
              return;
            }
            const group = segment[next++]!;
            const following = groups[groups.indexOf(group) + 1];
            readAhead([group, following]);
            await runNode(group, following);
            const node = group[0]!;
            if (node.node !== plan.controller) await pct(node.host).closeSessions(node.vmid);
          }
        };
        await Promise.all(Array.from({ length: Math.min(width, segment.length) }, lane));
        if (failed || interrupted) break;
      }
      if (failed || interrupted) break;
    }
  }
  const done = new Set(completed.map((s) => s.id));
  return {
    ok: !failed && !interrupted,
    completed,
    failed,
    remaining: steps.filter((s) => !done.has(s.id)),
    leftCordoned: [...cordoned],
    midUpgrade: [...unverified],
    interrupted,
  };
}

export { CORDON_ANNOTATION };

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

/** Runs of consecutive worker groups (which may overlap), and each server group alone. */
export function segments(groups: readonly Step[][]): Step[][][] {
  const out: Step[][][] = [];
  for (const g of groups) {
    const last = out[out.length - 1];
    if (g[0]!.role === 'agent' && last && last[0]![0]!.role === 'agent') last.push(g);
    else out.push([g]);
  }
  return out;
}

/** --parallel capped so at least one schedulable worker stays up to take the pods. */
function parallelWidth(requested: number, inventory: Inventory, stays: ReadonlySet<string>, emit: Emit): number {
  const agents = inventory.nodes.filter((n) => n.role === 'agent' && !stays.has(n.name)).length;
  const spare = Math.max(1, agents - 1);
  const width = Math.max(1, Math.min(Math.floor(requested), spare));
  if (width < requested)
    emit({
      kind: 'log',
      level: 'warn',
      message: `--parallel ${requested} lowered to ${width}: ${agents} schedulable worker(s), and one must stay up to take the pods`,
    });
  return width;
}
