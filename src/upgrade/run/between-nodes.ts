/**
 * What is checked before each node starts, from the run's policy: the maintenance window
 * (closed: the run stops, resumable in the next window) and the gates (active alerts, blocking
 * pods: the run waits, up to the gate timeout, then stops). Built once per run from the
 * inventory's upgrade policy; both engines call it before each node's steps. A group that only
 * finishes a node (an interrupted run's health gate or uncordon) is not held back.
 */
import { humanDuration } from '../../domain/duration.js';
import type { Step } from '../../domain/plan.js';
import type { UpgradePolicy } from '../../inventory/types.js';
import { waitForGates, type GateSettings } from '../policy/gates.js';
import { windowStop } from '../policy/window-gate.js';
import type { RunDeps } from './context.js';

/** Why the run stopped before a node, on purpose (a window closed, a gate timed out). */
export interface NodeStop {
  message: string;
  hint: string;
}

/** What the checks before a node use, whichever engine runs the node. */
export type NodeCheckDeps = Pick<RunDeps, 'kube' | 'clock' | 'signal' | 'emit' | 'note'>;
export type BeforeNode = (group: readonly Step[], deps: NodeCheckDeps) => Promise<NodeStop | undefined>;

/** What the checks before a node decided: go on, stop there on purpose (recorded and said), or a check failed. */
type NodeCheck = { go: true } | { go: false; stop: NodeStop } | { go: false; error: unknown };

/**
 * Runs `check` before the node of `group`, for any engine: a stop is written in the journal
 * and said as a warning here, so every engine reports it in the same words.
 */
async function checkBeforeNode(check: BeforeNode, group: readonly Step[], deps: NodeCheckDeps): Promise<NodeCheck> {
  const node = group[0]!.node;
  let stop: NodeStop | undefined;
  try {
    stop = await check(group, deps);
  } catch (error) {
    return { go: false, error };
  }
  if (!stop) return { go: true };
  deps.note(`stopped before ${node}: ${stop.message}`, node);
  deps.emit({ kind: 'log', level: 'warn', message: `stopped before ${node}: ${stop.message}`, node });
  return { go: false, stop };
}

/** What an engine's run keeps that the checks before a node change. */
export interface NodeCheckRun {
  /** A node failed, or a stop or abort was asked for: no new node starts. */
  stopped(): boolean;
  /** The run ends here, resumable: on purpose (with why), or because it was aborted. */
  interrupt(stop?: NodeStop): void;
  /** A check itself failed (not a stop on purpose): the run fails before this step. */
  fail(step: Step, error: unknown): void;
}

/**
 * Whether the node of `group` may start, for any engine: runs the checks (checkBeforeNode) and
 * tells the run what they decided. A check that failed while the run was being aborted is the
 * abort, not a failure; a run that stopped while the checks waited starts nothing more.
 */
export async function mayStartNode(
  check: BeforeNode,
  { group, deps, run }: { group: readonly Step[]; deps: NodeCheckDeps; run: NodeCheckRun },
): Promise<boolean> {
  const c = await checkBeforeNode(check, group, deps);
  if ('error' in c) {
    if (deps.signal?.aborted) run.interrupt();
    else run.fail(group[0]!, c.error);
    return false;
  }
  if (run.stopped()) return false;
  if (c.go) return true;
  run.interrupt(c.stop);
  return false;
}

/** One hour, as a default that outlasts a short alert without holding a run for a night. */
export const DEFAULT_GATE_TIMEOUT_SECONDS = 3600;

/** The gate settings of a policy, or undefined when it has no gate. */
export function gateSettings(policy: UpgradePolicy): GateSettings | undefined {
  const selectors = policy.blockingPodSelector ?? [];
  if (!policy.prometheusUrl && selectors.length === 0) return undefined;
  return {
    prometheusUrl: policy.prometheusUrl,
    alerts: {
      regexp: policy.alertFilterRegexp ? new RegExp(policy.alertFilterRegexp) : undefined,
      firingOnly: policy.alertFiringOnly,
      matchOnly: policy.alertFilterMatchOnly,
    },
    blockingPodSelectors: selectors,
  };
}

/** The checks before each node, or undefined when the policy has none. */
export function beforeEachNode(policy: UpgradePolicy): BeforeNode | undefined {
  const checks: BeforeNode[] = [];
  const w = policy.window;
  if (w) checks.push(async (_group, deps) => windowStop(w, new Date(deps.clock.now())));
  const gates = gateSettings(policy);
  if (gates) {
    const timeoutMs = (policy.gateTimeoutSeconds ?? DEFAULT_GATE_TIMEOUT_SECONDS) * 1000;
    checks.push(async (group, deps) => {
      const node = group[0]!.node;
      let noted = false;
      const r = await waitForGates(node, gates, {
        kube: deps.kube,
        clock: deps.clock,
        signal: deps.signal,
        timeoutMs,
        heartbeat: (message) => {
          deps.emit({ kind: 'log', level: 'warn', message });
          if (!noted) deps.note(message, node);
          noted = true;
        },
      });
      if (r.open) {
        if (noted) deps.note(`the gate before ${node} opened after ${humanDuration(r.waitedMs)}`, node);
        return undefined;
      }
      return {
        message: `the gate before ${node} stayed closed for ${humanDuration(r.waitedMs)}: ${r.why.join('; ')}`,
        hint: `nothing was started on ${node}; \`pve-k3s resume\` checks the gate again (--gate-timeout waits longer)`,
      };
    });
  }
  if (checks.length === 0) return undefined;
  return async (group, deps) => {
    if (!group.some((s) => s.kind === 'drain' || s.kind === 'install' || s.kind === 'restart')) return undefined;
    for (const check of checks) {
      const stop = await check(group, deps);
      if (stop) return stop;
    }
    return undefined;
  };
}
