/**
 * The health-gate step of an upgrade: the shared gate (health-gate.ts) at the step's version;
 * then old snapshots pruned, or, when it fails, a worker with a snapshot from this run rolled
 * back to it. What follows the gate (gateFailure, pruneAfterGate) is shared with the SUC engine.
 */
import { RunError } from '../../domain/errors.js';
import type { Step } from '../../domain/plan.js';
import { failureReason } from '../../shell/reason.js';
import type { RunResult } from '../../shell/shell.js';
import type { RunDeps, RunState } from './context.js';
import { gateFailedMessage, serviceLogCommand, waitHealthy } from './health-gate.js';
import { isEtcdMember, pruneSnapshots } from './snapshots.js';
import { uncordon } from './uncordon.js';

/** A worker failed its health gate and was rolled back to its snapshot: it runs its old version, healthy. */
export class RolledBackError extends RunError {}

/** What follows a gate uses, whichever engine did the node's work. */
export type AfterGateDeps = Pick<
  RunDeps,
  'inventory' | 'kube' | 'pct' | 'emit' | 'signal' | 'clock' | 'poll' | 'servers' | 'staysCordoned' | 'note' | 'snapshot'
>;
export type AfterGateState = Pick<RunState, 'rollbackTo' | 'cordoned' | 'uncordoned'>;

export interface WaitReadyOptions {
  state: RunState;
  /** kubectl commands for the round trip that finds the worker healthy (its uncordon). */
  tail?: readonly (readonly string[])[];
  /** Called with their results as soon as the gate passed. */
  onHealthy?: (tail: RunResult[]) => void;
}

/** The wait-ready step on its own. */
export function waitReady(step: Step, deps: RunDeps, state: RunState): Promise<undefined> {
  return waitReadyWith(step, deps, { state });
}

/** The wait-ready step, with `tail` run in the round trip that finds the worker healthy. */
export async function waitReadyWith(step: Step, deps: RunDeps, o: WaitReadyOptions): Promise<undefined> {
  const { state } = o;
  const timeoutMs = deps.inventory.upgrade.readyTimeoutSeconds * 1000;
  const gate = await waitHealthy(step, deps, {
    version: step.version,
    timeoutMs,
    servers: deps.servers,
    ...(o.tail ? { tail: o.tail } : {}),
  });
  if (gate.healthy) {
    o.onHealthy?.(gate.tail);
    await pruneAfterGate(step, deps, state);
    return undefined;
  }
  throw await gateFailure(step, deps, { state, timeoutMs, lastSeen: gate.lastSeen });
}

/**
 * The error of a failed health gate; a worker with a snapshot taken by this run (never an etcd
 * member) is rolled back to it first, and the error says whether that worked.
 */
export async function gateFailure(
  step: Step,
  deps: AfterGateDeps,
  {
    state,
    timeoutMs,
    lastSeen,
    again = 'pve-k3s upgrade',
  }: {
    state: AfterGateState;
    timeoutMs: number;
    lastSeen: string;
    /** The command that upgrades the rolled-back node again: the SUC engine's run goes on with `pve-k3s resume` (a plain upgrade would be the SSH engine's). */
    again?: string;
  },
): Promise<RunError> {
  const failed = gateFailedMessage(step, { version: step.version, timeoutMs, lastSeen });
  const journal = serviceLogCommand(step);
  const point = state.rollbackTo.get(step.node);
  if (point === undefined || step.role !== 'agent' || isEtcdMember(deps.inventory, step.node)) {
    return new RunError(failed, {
      node: step.node,
      step: step.id,
      hint: `look at the node: ${journal}; raise upgrade.readyTimeout if it is just slow; then run pve-k3s resume`,
    });
  }
  const back = await rollback(step, deps, { state, to: { ...point, timeoutMs } });
  if (back === undefined) {
    return new RolledBackError(
      `${failed}; it was rolled back to snapshot ${point.snapshot} and runs ${point.version} again${deps.staysCordoned.has(step.node) ? '' : ', uncordoned'}`,
      {
        node: step.node,
        step: step.id,
        hint: `find the cause before upgrading it again: ${journal}; the snapshot is kept; then run ${again}`,
      },
    );
  }
  return new RunError(`${failed}; the rollback to snapshot ${point.snapshot} failed too: ${back}`, {
    node: step.node,
    step: step.id,
    hint: `repair the node by hand: pct rollback ${step.vmid} ${point.snapshot} && pct start ${step.vmid} (on ${step.host}), then pct exec ${deps.kube.controllerVmid} -- /usr/local/bin/kubectl uncordon ${step.node} (on ${deps.kube.pct.host})`,
  });
}

/** Worker rollback: pct rollback, pct start, wait healthy at the old version, uncordon. Returns an error message or undefined. */
async function rollback(
  step: Step,
  deps: AfterGateDeps,
  { state, to }: { state: AfterGateState; to: { snapshot: string; version: string; timeoutMs: number } },
): Promise<string | undefined> {
  const shell = deps.pct(step.host).shell;
  deps.emit({
    kind: 'log',
    level: 'warn',
    node: step.node,
    message: `rolling ${step.node} back to snapshot ${to.snapshot} (${to.version})`,
  });
  deps.note(`rollback to ${to.snapshot} started`, step.node);
  const r = await shell.run(['pct', 'rollback', String(step.vmid), to.snapshot], { signal: deps.signal, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) return `pct rollback: ${failureReason(r)}`;
  const st = await shell.run(['pct', 'start', String(step.vmid)], { signal: deps.signal, timeoutMs: 5 * 60_000 });
  if (st.code !== 0 && !/already running/.test(failureReason(st))) return `pct start: ${failureReason(st)}`;
  const gate = await waitHealthy(step, deps, { version: to.version, timeoutMs: to.timeoutMs, servers: deps.servers });
  if (!gate.healthy) return `not healthy at ${to.version} after the rollback (last seen: ${gate.lastSeen})`;
  if (!deps.staysCordoned.has(step.node)) await uncordon(step, deps, state);
  deps.note(`rollback to ${to.snapshot} done: runs ${to.version}`, step.node);
  return undefined;
}

/** Old `pre-k3s-*` snapshots beyond upgrade.snapshotRetention go once the node is healthy. */
export async function pruneAfterGate(step: Step, deps: AfterGateDeps, state: Pick<RunState, 'rollbackTo'>): Promise<void> {
  if (!deps.snapshot.enabled || !state.rollbackTo.has(step.node)) return;
  const { retention } = deps.snapshot;
  const { deleted, failed } = await pruneSnapshots(deps.pct(step.host), { vmid: step.vmid, keep: retention, signal: deps.signal });
  const log = (level: 'info' | 'warn', message: string) => deps.emit({ kind: 'log', level, node: step.node, message });
  if (deleted.length > 0) log('info', `deleted old snapshot(s) ${deleted.join(', ')} (upgrade.snapshotRetention ${retention})`);
  if (failed.length > 0) log('warn', `could not delete old snapshot(s) ${failed.join(', ')}`);
}
