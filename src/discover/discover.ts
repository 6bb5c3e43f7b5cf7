/**
 * discover(): the LXC containers of a Proxmox host or cluster and the k3s nodes among them, in
 * two batched round trips per host: (1) `hostname`, cluster resources and `pct list`; (2) per
 * container on that host, its k3s services (and `pct config` for tags when the cluster
 * listing was not available).
 */
import type { Shell } from '../shell/shell.js';
import { failureReason } from '../shell/reason.js';
import type { HostAccess } from '../inventory/types.js';
import { buildBatch, parseBatch, type BatchCommand } from '../proxmox/batch.js';
import { parseKeyValues } from '../proxmox/pct.js';
import { PveK3sError } from '../domain/errors.js';
import { KUBECTL } from '../kube/kube.js';
import { parseJsonOutput } from '../kube/nodes.js';
import { isRecord } from '../domain/text.js';
import { addressesOf, CLUSTER_RESOURCES_ARGV, containersFromPctList, parseClusterResources, parseTags } from './resources.js';
import { decideRole, parseProbe, probeArgv } from './roles.js';
import type { DiscoveredHost, DiscoveredNode, Discovery, FoundContainer, ServiceProbe, SkippedContainer } from './types.js';

export interface DiscoverTarget {
  shell: Shell;
  /** How the inventory should reach this host. */
  access: HostAccess;
  /** The Proxmox node name, when known (lab hosts); else `hostname` tells. */
  node?: string;
}

export interface DiscoverOptions {
  /** Keep containers carrying this Proxmox tag. @default "k3s" */
  tag?: string;
  /** Keep every container, tagged or not (those without k3s services are still left out). @default false */
  all?: boolean;
  /** A listing obtained elsewhere (the REST API); the shells then only look inside containers. */
  listing?: FoundContainer[];
  signal?: AbortSignal;
  /** Per round trip. @default 120000 */
  timeoutMs?: number;
  /** `pct exec` run at once per host. @default 8 */
  parallel?: number;
  /**
   * Also ask Kubernetes for its nodes' addresses (InternalIP, ExternalIP): one more round trip,
   * `kubectl get nodes -o json` in a running server. @default false
   */
  nodeAddresses?: boolean;
}

/** Kubernetes node names: DNS-1123 subdomains. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class DiscoveryError extends PveK3sError {
  readonly exitCode = 1 as const;
}

interface Reached {
  target: DiscoverTarget;
  node: string;
  resources: FoundContainer[] | undefined;
  resourcesError: string | undefined;
  pctList: FoundContainer[] | undefined;
}

export async function discover(targets: readonly DiscoverTarget[], opts: DiscoverOptions = {}): Promise<Discovery> {
  const tag = (opts.tag ?? 'k3s').toLowerCase();
  const warnings: string[] = [];
  let roundTrips = 0;

  // Round trip 1: who each host is, and what it lists.
  const reached = await Promise.all(
    targets.map(async (t): Promise<Reached> => {
      const cmds: BatchCommand[] = [{ argv: ['hostname'] }];
      if (!opts.listing) cmds.push({ argv: [...CLUSTER_RESOURCES_ARGV] }, { argv: ['pct', 'list'] });
      const results = await runBatch(t.shell, cmds, opts);
      roundTrips++;
      const [host, res, list] = results;
      const node = t.node ?? (host && host.code === 0 ? ((host.stdout.trim().split('\n')[0] ?? '').split('.')[0] ?? '') : '');
      if (node === '')
        throw new DiscoveryError(
          `${t.shell.host}: cannot tell its Proxmox node name (\`hostname\` failed: ${host ? failureReason(host) : 'no answer'})`,
        );
      let resources: FoundContainer[] | undefined;
      let resourcesError: string | undefined;
      if (res && res.code === 0) {
        try {
          resources = parseClusterResources(JSON.parse(res.stdout));
        } catch (e) {
          resourcesError = `unexpected \`pvesh get /cluster/resources\` output: ${(e as Error).message}`;
        }
      } else if (res) resourcesError = `pvesh failed (exit ${res.code}): ${failureReason(res, { singleLine: true })}`;
      let pctList: FoundContainer[] | undefined;
      if (list && list.code === 0) pctList = containersFromPctList(list.stdout, node);
      else if (list && !resources)
        throw new DiscoveryError(`${t.shell.host}: \`pct list\` failed (exit ${list.code}): ${failureReason(list)}`, {
          hint: 'pve-k3s needs root on the Proxmox host (pct and pvesh)',
        });
      return { target: t, node, resources, resourcesError, pctList };
    }),
  );

  let source: Discovery['source'];
  let containers: FoundContainer[];
  const fromCluster = reached.find((r) => r.resources !== undefined);
  if (opts.listing) {
    source = 'api';
    containers = opts.listing;
  } else if (fromCluster?.resources) {
    source = 'cluster-resources';
    containers = fromCluster.resources;
  } else {
    source = 'pct-list';
    containers = reached.flatMap((r) => r.pctList ?? []);
    const why = reached.find((r) => r.resourcesError)?.resourcesError;
    if (why) warnings.push(`no cluster-wide listing (${why}); used \`pct list\` on each host given, so other Proxmox nodes are not seen`);
  }
  const byNode = new Map(reached.map((r) => [r.node, r] as const));

  // Round trip 2: look inside the containers of each reached node, and read their configs (the
  // addresses of their netN lines, and the tags pct list lacks).
  const probes = new Map<number, { probe: ServiceProbe | undefined; problem: string | undefined }>();
  await Promise.all(
    reached.map(async (r) => {
      const mine = containers.filter((c) => c.node === r.node);
      const running = mine.filter((c) => c.status === 'running');
      if (mine.length === 0) return;
      const cmds: BatchCommand[] = [
        ...mine.map((c) => ({ argv: ['pct', 'config', String(c.vmid)] })),
        ...running.map((c) => ({ argv: probeArgv(c.vmid) })),
      ];
      const results = await runBatch(r.target.shell, cmds, { ...opts, parallel: opts.parallel ?? 8 });
      roundTrips++;
      mine.forEach((c, i) => {
        const cfg = results[i];
        const config = cfg && cfg.code === 0 ? parseKeyValues(cfg.stdout) : new Map<string, string>();
        if (c.tags === undefined) c.tags = parseTags(config.get('tags'));
        c.addresses = addressesOf(config);
      });
      running.forEach((c, i) => {
        const res = results[mine.length + i];
        const probe = res ? parseProbe(res.stdout) : undefined;
        probes.set(c.vmid, {
          probe,
          problem: probe
            ? undefined
            : res
              ? `cannot look inside (exit ${res.code}: ${failureReason(res, { singleLine: true })})`
              : 'cannot look inside (no answer)',
        });
      });
    }),
  );

  const nodes: DiscoveredNode[] = [];
  const skipped: SkippedContainer[] = [];
  const unprobed = new Set<string>();
  for (const c of containers) {
    const addresses = c.addresses ?? [];
    const skip = (reason: string) => skipped.push({ vmid: c.vmid, name: c.name, host: c.node, reason, addresses });
    if (!opts.all && !(c.tags ?? []).includes(tag)) {
      skip(`not tagged ${tag}`);
      continue;
    }
    const reachedNode = byNode.has(c.node);
    if (!reachedNode) unprobed.add(c.node);
    const p = probes.get(c.vmid);
    const problem = !reachedNode
      ? `Proxmox node ${c.node} was not given with --host`
      : c.status !== 'running'
        ? `the container is ${c.status}`
        : p?.problem;
    const verdict = decideRole(c, p?.probe, problem);
    if (verdict.role === undefined) {
      skip(verdict.reason);
      continue;
    }
    if (verdict.warning) warnings.push(verdict.warning);
    const name = c.name.toLowerCase();
    if (!NODE_NAME.test(name) || name.length > 253) {
      skip(`its name "${c.name}" is not a valid Kubernetes node name`);
      continue;
    }
    const twin = nodes.find((n) => n.name === name);
    if (twin) {
      skip(`its name is also CT ${twin.vmid}'s (on ${twin.host})`);
      continue;
    }
    nodes.push({
      name,
      vmid: c.vmid,
      host: c.node,
      role: verdict.role,
      roleFrom: verdict.from,
      status: c.status,
      addresses: [...addresses],
    });
  }
  if (opts.nodeAddresses) roundTrips += await addNodeAddresses({ nodes, byNode, probes, warnings }, opts);
  for (const n of [...unprobed].sort()) {
    warnings.push(
      `Proxmox node ${n} was not probed (add --host for it): roles of its containers come from their tags, and the inventory gets \`ssh: root@${n}\` for it`,
    );
  }

  const hostNames = [...new Set([...reached.map((r) => r.node), ...nodes.map((n) => n.host)])];
  const used = new Set(nodes.map((n) => n.host));
  const hosts: DiscoveredHost[] = hostNames.filter((h) => used.has(h)).map((h) => ({ name: h, access: byNode.get(h)?.target.access }));
  return { source, hosts, nodes, skipped, warnings, roundTrips };
}

/**
 * Round trip 3 (asked for): the addresses Kubernetes reports for its nodes, read with kubectl in
 * one running server on a host given, added to the discovered nodes of the same name. Returns
 * the round trips spent; a failure is a warning (the config addresses and names still match).
 */
async function addNodeAddresses(
  {
    nodes,
    byNode,
    probes,
    warnings,
  }: {
    nodes: DiscoveredNode[];
    byNode: ReadonlyMap<string, Reached>;
    probes: ReadonlyMap<number, { probe: ServiceProbe | undefined }>;
    /** Where a failure is said. */
    warnings: string[];
  },
  opts: DiscoverOptions,
): Promise<number> {
  const server = nodes.find((n) => n.role === 'server' && byNode.has(n.host) && probes.get(n.vmid)?.probe?.serverActive === 'active');
  if (!server) {
    if (nodes.length > 0) warnings.push("no running k3s server on the hosts given, so the nodes' InternalIPs were not read");
    return 0;
  }
  const [r] = await runBatch(
    byNode.get(server.host)!.target.shell,
    [{ argv: ['pct', 'exec', String(server.vmid), '--', KUBECTL, 'get', 'nodes', '-o', 'json'] }],
    opts,
  );
  const why = (text: string) =>
    warnings.push(
      `cannot read the nodes' addresses with kubectl in CT ${server.vmid} (${server.name}): ${text}; matched by config addresses and names only`,
    );
  if (!r || r.code !== 0) {
    why(r ? `exit ${r.code}: ${failureReason(r, { singleLine: true })}` : 'no answer');
    return 1;
  }
  let items: unknown[];
  try {
    const doc = parseJsonOutput(r.stdout);
    items = isRecord(doc) && Array.isArray(doc['items']) ? doc['items'] : [];
  } catch (e) {
    why((e as Error).message);
    return 1;
  }
  for (const item of items) {
    const meta = isRecord(item) && isRecord(item['metadata']) ? item['metadata'] : {};
    const status = isRecord(item) && isRecord(item['status']) ? item['status'] : {};
    const node = nodes.find((n) => n.name === meta['name']);
    if (!node || !Array.isArray(status['addresses'])) continue;
    for (const a of status['addresses']) {
      if (!isRecord(a) || typeof a['address'] !== 'string' || (a['type'] !== 'InternalIP' && a['type'] !== 'ExternalIP')) continue;
      const address = a['address'].toLowerCase();
      if (!node.addresses.some((x) => x.address === address)) node.addresses.push({ address, from: a['type'] });
    }
  }
  return 1;
}

async function runBatch(shell: Shell, cmds: BatchCommand[], opts: DiscoverOptions) {
  const batch = buildBatch(cmds, { parallel: opts.parallel ?? 1 });
  const r = await shell.run(['sh', '-s'], {
    stdin: batch.script,
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (r.code !== 0 && !r.stdout.includes(batch.nonce)) {
    throw new DiscoveryError(`${shell.host}: the discovery script failed (exit ${r.code}): ${failureReason(r)}`);
  }
  return parseBatch(r, batch);
}
