/**
 * The soak steps of a plan (pure): after each node's steps, a `soak` step in which the node
 * must stay healthy before the next node starts (`--soak`), and after the canary its own soak
 * (`--canary-soak`) or, without one, a confirmation on the terminal. The last node of the plan
 * gets none: nothing comes after it. The planner emits them, so they are journaled, shown in
 * the plan and counted in its steps like every other step; the runner only executes them.
 */
import type { Phase, SoakSpec, Step } from '../../domain/plan.js';

export interface SoakPolicy {
  /** Seconds each node must stay healthy before the next one starts. @default none */
  soakSeconds?: number | undefined;
  /** The canary (already first in its phase), if any. */
  canary?: string | undefined;
  /** Seconds the canary must stay healthy; undefined = ask on the terminal. */
  canarySoakSeconds?: number | undefined;
}

/** Inserts the soak steps into `phases` (in place). */
export function addSoakSteps(phases: Phase[], policy: SoakPolicy): void {
  const groups: { phase: Phase; last: Step }[] = [];
  for (const phase of phases) {
    for (const s of phase.steps) {
      const prev = groups[groups.length - 1];
      if (prev && prev.phase === phase && prev.last.node === s.node) prev.last = s;
      else groups.push({ phase, last: s });
    }
  }
  let canaryDone = policy.canary === undefined;
  const inserts: { phase: Phase; after: Step; step: Step }[] = [];
  groups.forEach((g, i) => {
    const isCanary = !canaryDone && g.last.node === policy.canary && !g.last.id.startsWith('0/');
    if (isCanary) canaryDone = true;
    if (i === groups.length - 1) return;
    const spec: SoakSpec | undefined = isCanary
      ? { seconds: policy.canarySoakSeconds ?? policy.soakSeconds ?? 0, confirm: policy.canarySoakSeconds === undefined, reason: 'canary' }
      : policy.soakSeconds
        ? { seconds: policy.soakSeconds, confirm: false, reason: 'between-nodes' }
        : undefined;
    if (!spec || (spec.seconds <= 0 && !spec.confirm)) return;
    const { from: _from, ...base } = g.last;
    const phaseNo = g.last.id.slice(0, g.last.id.indexOf('/'));
    inserts.push({ phase: g.phase, after: g.last, step: { ...base, id: `${phaseNo}/${g.last.node}/soak`, kind: 'soak', soak: spec } });
  });
  for (const ins of inserts) ins.phase.steps.splice(ins.phase.steps.indexOf(ins.after) + 1, 0, ins.step);
}
