/**
 * The drain step: record in the cluster that the cordon is ours (annotation BEFORE the cordon,
 * so any later run knows to uncordon it), warn about what the drain will run into, drain, and
 * on an eviction timeout fall back to deleting pods when drain.onTimeout says so.
 */
import { RunError } from '../../domain/errors.js';
import { CORDON_ANNOTATION } from '../../domain/facts.js';
import type { Step } from '../../domain/plan.js';
import { drainArgs } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';
import type { RunResult } from '../../shell/shell.js';
import type { RunDeps, RunState } from './context.js';
import { DRAIN_CHECK_COMMANDS, drainCheckFrom } from './drain-check.js';

export async function drain(step: Step, deps: RunDeps, state: RunState): Promise<undefined> {
  const { kube, inventory } = deps;
  const ours = !deps.staysCordoned.has(step.node);
  const annotate = ['annotate', 'node', step.node, `${CORDON_ANNOTATION}=${step.version}`, '--overwrite'];
  const annotated = (a: RunResult | undefined): void => {
    if (!ours) return;
    if (!a || a.code !== 0)
      throw new RunError(`cannot annotate node ${step.node} before draining it: ${a ? failureReason(a) : 'no answer'}`, {
        node: step.node,
        step: step.id,
        hint: `check the cluster from ${kube.controllerName} (pve-k3s status)`,
        detail: a ? a.stderr || a.stdout : undefined,
      });
    state.cordoned.add(step.node);
  };
  const warn = (results: readonly RunResult[], uncordonedSince?: ReadonlySet<string>): void => {
    for (const w of drainCheckFrom(step.node, results, { policy: inventory.drain, uncordonedSince }))
      deps.emit({ kind: 'log', node: step.node, ...w });
  };
  const timeoutMs = (inventory.drain.timeoutSeconds + 60) * 1000;
  const run = { signal: deps.signal, timeoutMs };
  // The pre-drain check's reads, taken ahead while the previous node upgraded (after its drain).
  const checks = await deps.readAhead.takeDrainCheck(step.node);
  let r: RunResult;
  if (checks && checks.every((x) => x.code === 0)) {
    warn(checks, state.uncordoned);
    if (ours) {
      // One round trip: the annotation, then the drain only if it was recorded.
      const [a, d] = await kube.batch([annotate, drainArgs(step.node, inventory.drain)], { ...run, stopOnFailure: true });
      annotated(a);
      r = d ?? { code: 1, stdout: '', stderr: 'no answer' };
    } else {
      r = await kube.drain(step.node, inventory.drain, run);
    }
  } else {
    // One round trip: the annotation and what the pre-drain check reads.
    const results = await kube.batch(ours ? [annotate, ...DRAIN_CHECK_COMMANDS] : DRAIN_CHECK_COMMANDS, {
      signal: deps.signal,
      timeoutMs: 60_000,
    });
    if (ours) annotated(results.shift());
    warn(results);
    r = await kube.drain(step.node, inventory.drain, run);
  }
  if (r.code !== 0 && evictionTimedOut(r, deps)) {
    const message = `drain of ${step.node} timed out on evictions (a PodDisruptionBudget?); retrying with --disable-eviction as drain.onTimeout says`;
    deps.emit({ kind: 'log', level: 'warn', node: step.node, message });
    deps.note(message, step.node);
    r = await kube.drain(step.node, { ...inventory.drain, disableEviction: true }, run);
  }
  if (r.code !== 0) {
    throw new RunError(`draining ${step.node} failed: ${failureReason(r)}`, {
      node: step.node,
      step: step.id,
      hint: inventory.drain.disableEviction
        ? 'look at the pods that block it (kubectl get pods -A -o wide); set drain.force for pods without a controller'
        : 'a PodDisruptionBudget may block eviction: raise drain.timeout, set drain.onTimeout: disable-eviction (or --drain-on-timeout disable-eviction), or drain.disableEviction (deletes pods, bypassing PDBs)',
      detail: r.stdout + r.stderr,
    });
  }
  return undefined;
}

/** An evicting drain that ran out of time, and drain.onTimeout says to retry deleting pods. */
function evictionTimedOut(r: RunResult, deps: RunDeps): boolean {
  const d = deps.inventory.drain;
  return !d.disableEviction && d.onTimeout === 'disable-eviction' && /global timeout reached|timed out/i.test(r.stderr);
}
