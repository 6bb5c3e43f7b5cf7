/**
 * The run record: the progress of the operation holding (or last holding) the cluster lease,
 * mirrored into the cluster as the Lease's `pve-k3s.io/run` annotation (JSON) and rewritten at
 * every step boundary, so any machine with the inventory can see which step is in flight and
 * `resume` can continue a run another machine started. The local journal stays the detailed
 * record. No secrets: ids, node names, versions, counts, messages.
 */
import type { RunEndStatus, RunSummary } from './journal.js';

export const RECORD_ANNOTATION = 'pve-k3s.io/run';
export const RECORD_VERSION = 1;

export type RecordState = 'running' | RunEndStatus;

export interface InFlight {
  step: string;
  node: string;
  /** 1-based position of the step in the run's plan. */
  index: number;
}

export interface RunRecord {
  v: number;
  run: string;
  /** `upgrade`, `restore`, `uninstall`, ... */
  operation: string;
  /** What the operation was given: a node name, a backup's directory name (never file contents). */
  args: string[];
  /** `user@host` and the process. */
  by: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  state: RecordState;
  endedAt?: string;
  /** The run this one continues (resume), and, once ended, who closed it when it was not its holder. */
  resumes?: string;
  /** Every run this one continues, newest first (a run resumed from a resumed run...). */
  lineage?: string[];
  closedBy?: string;
  /** A digest of the plan's steps (same plan, same digest). */
  planDigest?: string;
  /** Upgrades: what resume needs to plan again towards the same target. */
  target?: string;
  source?: string;
  order?: string;
  allowSkew?: boolean;
  snapshot?: boolean;
  /** Steps in the plan. */
  steps: number;
  /** Steps done, and the last one. */
  completed: number;
  lastCompleted?: string;
  inFlight: InFlight[];
  failed?: { step: string; message: string };
  /** Nodes whose steps in this run are all done. */
  nodesDone: string[];
  /** Nodes this run (or the one it continues) cordoned and has not uncordoned. */
  cordoned: string[];
  /** Nodes installed or restarted whose health is not confirmed yet. */
  midUpgrade: string[];
}

export function encodeRecord(r: RunRecord): string {
  return JSON.stringify(r);
}

export function decodeRecord(text: string | undefined): RunRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as Partial<RunRecord>;
    if (typeof r.run !== 'string' || typeof r.operation !== 'string' || typeof r.state !== 'string') return undefined;
    return {
      v: r.v ?? RECORD_VERSION,
      run: r.run,
      operation: r.operation,
      args: Array.isArray(r.args) ? r.args : [],
      by: r.by ?? 'unknown',
      pid: r.pid ?? 0,
      startedAt: r.startedAt ?? '',
      updatedAt: r.updatedAt ?? r.startedAt ?? '',
      state: r.state,
      ...(r.endedAt ? { endedAt: r.endedAt } : {}),
      ...(r.resumes ? { resumes: r.resumes } : {}),
      ...(Array.isArray(r.lineage) ? { lineage: r.lineage } : {}),
      ...(r.closedBy ? { closedBy: r.closedBy } : {}),
      ...(r.planDigest ? { planDigest: r.planDigest } : {}),
      ...(r.target ? { target: r.target } : {}),
      ...(r.source ? { source: r.source } : {}),
      ...(r.order ? { order: r.order } : {}),
      ...(r.allowSkew !== undefined ? { allowSkew: r.allowSkew } : {}),
      ...(r.snapshot !== undefined ? { snapshot: r.snapshot } : {}),
      steps: r.steps ?? 0,
      completed: r.completed ?? 0,
      ...(r.lastCompleted ? { lastCompleted: r.lastCompleted } : {}),
      inFlight: Array.isArray(r.inFlight) ? r.inFlight : [],
      ...(r.failed ? { failed: r.failed } : {}),
      nodesDone: Array.isArray(r.nodesDone) ? r.nodesDone : [],
      cordoned: Array.isArray(r.cordoned) ? r.cordoned : [],
      midUpgrade: Array.isArray(r.midUpgrade) ? r.midUpgrade : [],
    };
  } catch {
    return undefined;
  }
}

/** `10:42` today, else `2026-01-02 10:42`, in the viewer's time zone. */
export function clock(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const today = new Date(now);
  const same = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return same ? hm : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** `step 6/14 k3s-worker-2 install` (the first step in flight), or how far it got. */
export function stepText(r: RunRecord): string {
  const f = r.inFlight[0];
  if (f) {
    const kind = f.step.split('/').pop() ?? f.step;
    const more = r.inFlight.length > 1 ? ` (+${r.inFlight.length - 1} more in flight)` : '';
    return `step ${f.index}/${r.steps} ${f.node} ${kind}${more}`;
  }
  if (r.failed) {
    const [, node, kind] = r.failed.step.split('/');
    return `step ${r.failed.step}${node && kind ? ` (${node} ${kind})` : ''} failed`;
  }
  return r.steps > 0 ? `${r.completed}/${r.steps} steps done` : 'starting';
}

/** `upgrade in progress: step 6/14 k3s-worker-2 install, by ops@laptop since 10:42` */
export function inProgressText(r: RunRecord, now = Date.now()): string {
  return `${r.operation} in progress: ${stepText(r)}, by ${r.by} since ${clock(r.startedAt, now)}`;
}

/** A run the record shows as not finished: running now, or its holder died. */
export function recordOpen(r: RunRecord | undefined): boolean {
  return r !== undefined && r.state === 'running';
}

/** The record as a journal summary, for `resume` on a machine whose journal lacks the run. */
export function recordSummary(r: RunRecord): RunSummary {
  const inFlight = r.inFlight[0]?.step;
  return {
    run: r.run,
    operation: r.operation,
    startedAt: r.startedAt,
    target: r.target ?? '',
    source: r.source ?? '',
    order: r.order ?? 'auto',
    allowSkew: r.allowSkew ?? false,
    snapshot: r.snapshot ?? false,
    holder: `${r.by} pid ${r.pid}`,
    ...(r.lineage ? { lineage: r.lineage } : {}),
    status: r.state === 'running' ? undefined : r.state,
    endedAt: r.endedAt,
    completed: r.lastCompleted ? [r.lastCompleted] : [],
    inFlight,
    open: r.inFlight.map((f) => f.step),
    failed: r.failed,
    // The steps in flight beyond the first (parallel workers) count as touched: their gate is re-run.
    leftCordoned: r.cordoned,
    midUpgrade: [...new Set([...r.midUpgrade, ...r.inFlight.slice(1).map((f) => f.node)])],
  };
}
