/**
 * Node selection (--node, --exclude, `upgrade: false`, --canary) for the planner (pure): which
 * nodes are held back and why, the canary's name checked, and the refusal of a selection that
 * would break the skew rules against a held node, naming every node that must come along.
 */
import { PlanError } from '../../domain/errors.js';
import type { ClusterFacts } from '../../domain/facts.js';
import type { HoldReason, NodeSelection } from '../../domain/policy.js';
import type { Violation } from './skew.js';

/** Held nodes and why, from the selection; refuses names the facts do not know. */
export function resolveSelection(facts: ClusterFacts, sel: NodeSelection | undefined): Map<string, HoldReason> {
  const held = new Map<string, HoldReason>();
  if (!sel) return held;
  const names = facts.nodes.map((n) => n.name);
  const unknown = [...(sel.only ?? []), ...(sel.exclude ?? [])].filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    throw new PlanError(`no node named ${unknown.map((n) => `"${n}"`).join(', ')} in the inventory`, {
      reason: 'selection',
      hint: `nodes: ${names.join(', ')}`,
    });
  }
  for (const n of names) {
    if (sel.exclude?.includes(n)) held.set(n, 'excluded');
    else if (sel.only !== undefined && !sel.only.includes(n)) held.set(n, 'not-selected');
    else if (sel.held?.includes(n) && !sel.only?.includes(n)) held.set(n, 'inventory');
  }
  if (held.size === names.length) {
    throw new PlanError('the selection leaves no node to upgrade', {
      reason: 'selection',
      hint: 'name a node with --node, or remove --exclude / `upgrade: false` from one',
    });
  }
  return held;
}

export function checkCanaryName(facts: ClusterFacts, canary: string, held: ReadonlyMap<string, HoldReason>): void {
  if (!facts.nodes.some((n) => n.name === canary)) {
    throw new PlanError(`--canary: no node named "${canary}" in the inventory`, {
      reason: 'canary',
      hint: `nodes: ${facts.nodes.map((n) => n.name).join(', ')}`,
    });
  }
  const why = held.get(canary);
  if (why !== undefined) {
    throw new PlanError(`--canary ${canary}: that node is held back (${HOLD_WORDS[why]})`, {
      reason: 'canary',
      node: canary,
      hint: 'choose a canary among the nodes this run upgrades',
    });
  }
}

export const HOLD_WORDS: Record<HoldReason, string> = {
  inventory: 'upgrade: false in the inventory',
  excluded: '--exclude',
  'not-selected': 'not named by --node',
};

/** Held nodes that take part in a violation: they must come along for the selection to be safe. */
export function heldCulprits(skew: readonly Violation[], held: ReadonlyMap<string, HoldReason>): string[] {
  return [...new Set(skew.flatMap((v) => v.nodes.filter((n) => held.has(n))))];
}

/**
 * The refusal of a selection, with every node that must come along (a fixed point: adding some
 * may need others). `skewWith`: the violations of the plan with only `held` held back.
 */
export function selectionError(
  facts: ClusterFacts,
  { held, skew }: { held: ReadonlyMap<string, HoldReason>; skew: readonly Violation[] },
  skewWith: (held: ReadonlyMap<string, HoldReason>) => readonly Violation[],
): PlanError {
  const along: string[] = [];
  let still = new Map(held);
  for (let i = 0; i < facts.nodes.length; i++) {
    const culprits = heldCulprits(i === 0 ? skew : skewWith(still), still);
    if (culprits.length === 0) break;
    for (const c of culprits) {
      along.push(c);
      still.delete(c);
    }
    still = new Map(still);
  }
  const flags = along.map((n) => (held.get(n) === 'inventory' ? `drop \`upgrade: false\` from ${n}` : `--node ${n}`));
  return new PlanError(
    `refusing this selection: it breaks the Kubernetes version skew policy: ${skew[0]!.line}; ${along.length === 1 ? 'this node must' : 'these nodes must'} come along: ${along.join(', ')}`,
    {
      reason: 'selection',
      hint: `add them (${[...new Set(flags)].join(', ')}), or --allow-skew if you accept the risk`,
      detail: skew.map((v) => v.line).join('\n'),
    },
  );
}
