/**
 * Phase 0 (pure): what finishes an interrupted run before anything else. A node left cordoned
 * by it and already at the target gets its health gate and its uncordon; a node it left
 * unconfirmed and otherwise done gets its health gate again.
 */
import type { K3sVersion } from '../../domain/version.js';
import type { Step } from '../../domain/plan.js';
import type { PlanNodes, Walked } from './phases.js';
import { HOLD_WORDS } from './selection.js';

/** Puts phase 0 first in `walked.phases` (in place) when there is something to finish; held nodes are warnings. */
export function addResumePhases(
  { phases, finalAction, handled }: Pick<Walked, 'phases' | 'finalAction' | 'handled'>,
  { nodes, held, unconfirmed }: Pick<PlanNodes, 'nodes' | 'held'> & { unconfirmed: readonly string[] | undefined },
  { version: T, warnings }: { version: K3sVersion; warnings: string[] },
): void {
  // A node left cordoned by an interrupted run and already at the target: wait Ready, uncordon.
  const leftovers: Step[] = [];
  for (const n of nodes) {
    if (handled.has(n.f.name) || n.f.kube?.cordonedByUs === undefined) continue;
    const why = held.get(n.f.name);
    if (why !== undefined) {
      warnings.push(`${n.f.name} is still cordoned by an earlier pve-k3s run and is held back (${HOLD_WORDS[why]}): uncordon it by hand`);
      continue;
    }
    const base = { node: n.f.name, vmid: n.f.vmid, host: n.f.host, role: n.f.role, version: T.raw };
    leftovers.push({ ...base, id: `0/${n.f.name}/wait-ready`, kind: 'wait-ready' });
    leftovers.push({ ...base, id: `0/${n.f.name}/uncordon`, kind: 'uncordon' });
    finalAction.set(n.f.name, 'uncordon');
  }
  if (leftovers.length > 0) {
    phases.unshift({ version: T.raw, minor: false, order: 'workers-first', concurrency: 1, steps: leftovers });
  }
  // A node an interrupted run left unconfirmed and otherwise done: its health gate first.
  const planned = new Set(phases.flatMap((p) => p.steps.map((s) => s.node)));
  const rechecks: Step[] = [];
  for (const name of new Set(unconfirmed ?? [])) {
    const n = nodes.find((x) => x.f.name === name);
    if (!n || planned.has(name) || held.has(name)) continue;
    const base = { node: name, vmid: n.f.vmid, host: n.f.host, role: n.f.role, version: T.raw };
    rechecks.push({ ...base, id: `0/${name}/wait-ready`, kind: 'wait-ready' });
  }
  if (rechecks.length > 0) phases.unshift({ version: T.raw, minor: false, order: 'workers-first', concurrency: 1, steps: rechecks });
}
