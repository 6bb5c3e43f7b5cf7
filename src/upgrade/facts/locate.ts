/**
 * Containers move between Proxmox nodes (`pct migrate`, HA). When a node's container is not on
 * the host the inventory names, ONE `pvesh get /cluster/resources` on a reachable host says
 * where it is now, and that host is probed for it instead: the common path (nothing moved)
 * costs nothing extra.
 */
import type { Relocation } from '../../domain/facts.js';
import type { Inventory, NodeSpec } from '../../inventory/types.js';
import type { Shell } from '../../shell/shell.js';
import { CLUSTER_RESOURCES_ARGV, parseClusterResources } from '../../discover/resources.js';
import type { PctListEntry } from '../../proxmox/pct.js';

interface ProbeLike {
  list: PctListEntry[] | undefined;
  error: string | undefined;
}

export interface Located<P> {
  relocations: Relocation[];
  /** The probe that holds each moved node's facts, by node name. */
  probes: Map<string, P>;
  roundTrips: number;
}

/**
 * Finds the nodes whose containers are missing from their host's `pct list`, locates them in the
 * cluster resources, and probes their new hosts (those the inventory declares) in parallel.
 */
export async function locateMoved<P extends ProbeLike>(
  inv: Inventory,
  shells: ReadonlyMap<string, Shell>,
  opts: {
    /** The probe of each host, as the inventory names them. */
    byHost: ReadonlyMap<string, P>;
    /** Probes a host for the nodes that moved to it (with the controller when it is one of them). */
    probe: (shell: Shell, nodes: NodeSpec[], controller: NodeSpec | undefined) => Promise<P>;
    timeoutMs?: number;
    signal?: AbortSignal;
  },
): Promise<Located<P>> {
  const { byHost, probe } = opts;
  const none: Located<P> = { relocations: [], probes: new Map(), roundTrips: 0 };
  const missing = inv.nodes.filter((n) => {
    const p = byHost.get(n.host);
    return p?.list !== undefined && !p.list.some((e) => e.vmid === n.vmid);
  });
  if (missing.length === 0) return none;
  const asker = [...byHost.entries()].find(([, p]) => p.error === undefined && p.list !== undefined)?.[0];
  const shell = asker === undefined ? undefined : shells.get(asker);
  if (!shell) return none;
  let where: Map<number, string>;
  try {
    const r = await shell.run([...CLUSTER_RESOURCES_ARGV], {
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (r.code !== 0) return { ...none, roundTrips: 1 };
    where = new Map(parseClusterResources(JSON.parse(r.stdout)).map((c) => [c.vmid, c.node]));
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    return { ...none, roundTrips: 1 };
  }
  const relocations: Relocation[] = [];
  const moves = new Map<string, NodeSpec[]>();
  for (const n of missing) {
    const to = where.get(n.vmid);
    if (to === undefined || to === n.host) continue;
    const declared = shells.has(to);
    relocations.push({ node: n.name, vmid: n.vmid, from: n.host, to, declared });
    if (declared) moves.set(to, [...(moves.get(to) ?? []), { ...n, host: to }]);
  }
  const probes = new Map<string, P>();
  const controller = inv.nodes.find((n) => n.name === inv.controller);
  await Promise.all(
    [...moves].map(async ([host, nodes]) => {
      const ctrl = nodes.find((n) => n.name === controller?.name);
      const p = await probe(shells.get(host)!, nodes, ctrl);
      for (const n of nodes) probes.set(n.name, p);
    }),
  );
  return { relocations, probes, roundTrips: 1 + moves.size };
}

/** The inventory with each relocated node's host set to where its container is now (declared hosts only). */
export function withRelocations(inv: Inventory, relocations: readonly Relocation[]): Inventory {
  const to = new Map(relocations.filter((r) => r.declared).map((r) => [r.node, r.to]));
  return to.size === 0 ? inv : { ...inv, nodes: inv.nodes.map((n) => (to.has(n.name) ? { ...n, host: to.get(n.name)! } : n)) };
}

/** Warning lines for facts that found migrated containers. */
export function relocationWarnings(facts: { relocated?: Relocation[] | undefined }, file: string): string[] {
  return (facts.relocated ?? []).map((r) => `warning: ${relocationMessage(r, file)}\n`);
}

/** The warning shown for one relocation. */
export function relocationMessage(r: Relocation, file: string): string {
  return r.declared
    ? `inventory out of date: ${r.node} (CT ${r.vmid}) is on ${r.to}, not ${r.from}; used ${r.to}. Update ${file} with \`pve-k3s discover --write\` or set its host: ${r.to}`
    : `inventory out of date: ${r.node} (CT ${r.vmid}) is on ${r.to}, which ${file} does not declare under hosts; add ${r.to} to hosts and set the node's host: ${r.to}`;
}
