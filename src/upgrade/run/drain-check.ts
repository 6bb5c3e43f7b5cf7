/**
 * Before draining a node: read pods and PodDisruptionBudgets (kubectl -o json) and warn when
 * the drain will hurt or block: no other schedulable Ready node to take its pods, a pod with
 * no controller (drain refuses it without `force`), or a PDB that allows no disruption (an
 * evicting drain waits on it until its timeout). Pure analysis in `drainWarnings`.
 */
import type { DrainPolicy } from '../../inventory/types.js';
import type { KubeNodeFacts } from '../../domain/facts.js';
import { parseJsonOutput, parseNodeList } from '../../kube/nodes.js';
import type { RunResult } from '../../shell/shell.js';
import { failureReason } from '../../shell/reason.js';

export interface PodInfo {
  name: string;
  namespace: string;
  node: string;
  labels: Record<string, string>;
  ownerKind: string | undefined;
}

export interface PdbInfo {
  name: string;
  namespace: string;
  matchLabels: Record<string, string>;
  disruptionsAllowed: number;
}

export function parsePods(json: unknown): PodInfo[] {
  const items = (json as { items?: unknown[] }).items ?? [];
  return items.flatMap((it) => {
    const p = it as {
      metadata?: {
        name?: string;
        namespace?: string;
        labels?: Record<string, string>;
        ownerReferences?: { kind?: string; controller?: boolean }[];
      };
      spec?: { nodeName?: string };
    };
    if (!p.metadata?.name) return [];
    const owner = p.metadata.ownerReferences?.find((o) => o.controller !== false);
    return [
      {
        name: p.metadata.name,
        namespace: p.metadata.namespace ?? 'default',
        node: p.spec?.nodeName ?? '',
        labels: p.metadata.labels ?? {},
        ownerKind: owner?.kind,
      },
    ];
  });
}

export function parsePdbs(json: unknown): PdbInfo[] {
  const items = (json as { items?: unknown[] }).items ?? [];
  return items.flatMap((it) => {
    const b = it as {
      metadata?: { name?: string; namespace?: string };
      spec?: { selector?: { matchLabels?: Record<string, string> } };
      status?: { disruptionsAllowed?: number };
    };
    if (!b.metadata?.name) return [];
    return [
      {
        name: b.metadata.name,
        namespace: b.metadata.namespace ?? 'default',
        matchLabels: b.spec?.selector?.matchLabels ?? {},
        disruptionsAllowed: b.status?.disruptionsAllowed ?? 0,
      },
    ];
  });
}

export interface DrainWarning {
  level: 'warn' | 'info';
  message: string;
}

/** What draining `node` will run into (pure). */
export function drainWarnings(
  node: string,
  { pods, pdbs, nodes }: { pods: PodInfo[]; pdbs: PdbInfo[]; nodes: Map<string, KubeNodeFacts> },
  policy: DrainPolicy,
): DrainWarning[] {
  const out: DrainWarning[] = [];
  const warn = (message: string) => out.push({ level: 'warn', message });
  const moving = pods.filter((p) => p.node === node && p.ownerKind !== 'DaemonSet');
  if (moving.length === 0) return out;
  const others = [...nodes].filter(([name, n]) => name !== node && n.ready && n.schedulable).map(([name]) => name);
  const controlled = moving.filter((p) => p.ownerKind !== undefined);
  if (others.length === 0 && controlled.length > 0) {
    warn(
      `no other schedulable Ready node can take the ${controlled.length} pod(s) of ${node}: they will stay Pending until it is uncordoned`,
    );
  }
  const orphans = moving.filter((p) => p.ownerKind === undefined);
  if (orphans.length > 0) {
    const names = orphans.map((p) => `${p.namespace}/${p.name}`).join(', ');
    warn(
      policy.force
        ? `pod(s) with no controller on ${node} will be deleted and NOT re-created (drain.force): ${names}`
        : `pod(s) with no controller on ${node} make the drain fail: ${names} (set drain.force or --drain-force to delete them)`,
    );
  }
  for (const b of pdbs) {
    const hit = moving.filter((p) => p.namespace === b.namespace && Object.entries(b.matchLabels).every(([k, v]) => p.labels[k] === v));
    if (hit.length === 0 || b.disruptionsAllowed >= hit.length) continue;
    if (policy.disableEviction)
      out.push({
        level: 'info',
        message: `PodDisruptionBudget ${b.namespace}/${b.name} allows ${b.disruptionsAllowed} disruption(s); drain.disableEviction deletes its pod(s) on ${node} anyway`,
      });
    else
      warn(
        `PodDisruptionBudget ${b.namespace}/${b.name} allows ${b.disruptionsAllowed} disruption(s): evicting its pod(s) on ${node} will block until drain.timeout (${policy.timeoutSeconds}s)${policy.onTimeout === 'disable-eviction' ? ', then the drain is retried deleting pods (drain.onTimeout)' : ''}`,
      );
  }
  return out;
}

/** The kubectl commands whose output `drainCheckFrom` analyses (run in the same batch as the cordon annotation). */
export const DRAIN_CHECK_COMMANDS: readonly (readonly string[])[] = [
  ['get', 'pods', '-A', '-o', 'json'],
  ['get', 'pdb', '-A', '-o', 'json'],
  ['get', 'nodes', '-o', 'json'],
];

/** Analyses pods, PDBs and nodes as read; any read failure becomes one warning (the drain itself still decides). */
export function drainCheckFrom(
  node: string,
  results: readonly RunResult[],
  { policy, uncordonedSince = new Set() }: { policy: DrainPolicy; uncordonedSince?: ReadonlySet<string> | undefined },
): DrainWarning[] {
  const [pods, pdbs, nodes] = results;
  const bad = [pods, pdbs, nodes].find((r) => r === undefined || r.code !== 0);
  if (bad !== undefined || !pods || !pdbs || !nodes)
    return [
      {
        level: 'warn',
        message: `cannot check what draining ${node} will do: ${bad ? failureReason(bad, { singleLine: true }) : 'no answer'}`,
      },
    ];
  try {
    const seen = parseNodeList(nodes.stdout);
    // Read ahead (during the previous node's upgrade): nodes uncordoned since then, healthy, take pods again.
    for (const name of uncordonedSince) {
      const n = seen.get(name);
      if (n) seen.set(name, { ...n, ready: true, schedulable: true });
    }
    return drainWarnings(
      node,
      { pods: parsePods(parseJsonOutput(pods.stdout)), pdbs: parsePdbs(parseJsonOutput(pdbs.stdout)), nodes: seen },
      policy,
    );
  } catch (err) {
    return [{ level: 'warn', message: `cannot check what draining ${node} will do: ${(err as Error).message}` }];
  }
}
