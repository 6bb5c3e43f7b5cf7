/**
 * What the preflight and the known-issue checks read, in ONE round trip per Proxmox host (all
 * hosts in parallel, at the same time as the facts probe): `pveversion -v`, storage.cfg, the HA
 * resources, datacenter.cfg, the host's nf_conntrack_max, each container's raw conf, one
 * `pct exec` per container for what only the inside shows (the k3s binary's size, free space
 * where the installer writes, the unit and config.yaml), and on the controller's host the
 * cluster's other upgraders (SUC Plans, Rancher's agent: both in one `pct exec`).
 */
import { invariant, PveK3sError } from '../../domain/errors.js';
import type { Inventory, NodeSpec } from '../../inventory/types.js';
import { KUBECTL } from '../../kube/kube.js';
import { buildBatch, buildNestedBatch, nestedResults, parseBatch, type BatchCommand } from '../../proxmox/batch.js';
import {
  parseCrs,
  parseHaResources,
  parsePveVersion,
  parseStorageTypes,
  type HaResource,
  type PveVersions,
} from '../../proxmox/host-config.js';
import { parseConf, type LxcConf } from '../../proxmox/lxc-conf.js';
import type { RunResult, Shell } from '../../shell/shell.js';
import { failureReason } from '../../shell/reason.js';

export interface NodeInside {
  /** Size of /usr/local/bin/k3s in bytes; undefined when not read. */
  binaryBytes: number | undefined;
  /** Free space (KiB) of the file systems of /usr/local/bin and /tmp, where the installer writes. */
  free: Array<{ mount: string; availKb: number }>;
  /** The node's k3s unit file (ExecStart with its args). */
  unit: string;
  /** /etc/rancher/k3s/config.yaml, '' when absent. */
  config: string;
}

export interface HostPolicyProbe {
  host: string;
  /** Why the host could not be probed at all. */
  error: string | undefined;
  pve: PveVersions | undefined;
  /** Storage id -> type. */
  storage: Map<string, string> | undefined;
  /** HA resources; [] when HA is not configured, undefined when unreadable. */
  ha: HaResource[] | undefined;
  crs: ReturnType<typeof parseCrs> | undefined;
  /** The host's net.netfilter.nf_conntrack_max, when nf_conntrack is loaded. */
  conntrackMax: number | undefined;
  confs: Map<number, LxcConf>;
  inside: Map<string, NodeInside>;
}

export interface ClusterPolicyProbe {
  /** Other upgraders' SUC Plans (`namespace/name`); [] when there are none or SUC is not installed; undefined when unreadable. */
  sucPlans: string[] | undefined;
  /** pve-k3s's own SUC Plans (`namespace/name`, labelled app.kubernetes.io/managed-by=pve-k3s by src/upgrade/suc/plans.ts). */
  ownSucPlans?: string[];
  /** Rancher's cluster agent runs in the cluster; undefined when unreadable. */
  rancher: boolean | undefined;
  /** Why the cluster could not be asked. */
  error: string | undefined;
}

export interface PolicyProbe {
  hosts: HostPolicyProbe[];
  cluster: ClusterPolicyProbe;
  roundTrips: number;
}

const BIN = '/usr/local/bin/k3s';

/** Runs inside each container; sections marked with @@name lines. */
export const INSIDE_SCRIPT = [
  'echo @@size',
  `stat -c %s ${BIN} 2>/dev/null`,
  'echo @@df',
  'df -Pk /usr/local/bin /tmp 2>/dev/null',
  'echo @@unit',
  'cat /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service 2>/dev/null',
  'echo @@config',
  'cat /etc/rancher/k3s/config.yaml 2>/dev/null',
  'echo @@end',
].join('\n');

export function parseInside(text: string): NodeInside {
  const sec = (name: string): string => {
    const m = new RegExp(`^@@${name}\\n([\\s\\S]*?)^@@`, 'm').exec(text);
    return m?.[1] ?? '';
  };
  const size = Number(sec('size').trim().split('\n')[0]);
  const free: NodeInside['free'] = [];
  for (const line of sec('df').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const avail = Number(cols[3]);
    if (cols.length >= 6 && Number.isFinite(avail)) free.push({ mount: cols.slice(5).join(' '), availKb: avail });
  }
  return {
    binaryBytes: Number.isFinite(size) && size > 0 ? size : undefined,
    free,
    unit: sec('unit'),
    config: sec('config'),
  };
}

export const SUC_PLANS_ARGV = ['get', 'plans.upgrade.cattle.io', '-A', '-o', 'json'];
export const RANCHER_AGENT_ARGV = ['get', 'deployments.apps', '-n', 'cattle-system', 'cattle-cluster-agent', '-o', 'json'];

/** The label pve-k3s's own SUC Plans carry (src/upgrade/suc/plans.ts sets it to `pve-k3s`). */
const MANAGED_BY = 'app.kubernetes.io/managed-by';

/** A kubectl answer that means "there is no such thing" (not an error to report). */
function absent(r: RunResult): boolean {
  return r.code !== 0 && /doesn't have a resource type|NotFound|not found/.test(r.stdout + r.stderr);
}

export async function probePolicy(
  inv: Inventory,
  shells: ReadonlyMap<string, Shell>,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<PolicyProbe> {
  const controller = inv.nodes.find((n) => n.name === inv.controller);
  const hosts = [...new Set(inv.nodes.map((n) => n.host))];
  let cluster: ClusterPolicyProbe = { sucPlans: undefined, rancher: undefined, error: 'not asked' };
  const probes = await Promise.all(
    hosts.map(async (host) => {
      const nodes = inv.nodes.filter((n) => n.host === host);
      const r = await probeHost(
        { host, shell: shells.get(host), nodes, controller: controller?.host === host ? controller : undefined },
        opts,
      );
      if (r.cluster) cluster = r.cluster;
      return r.host;
    }),
  );
  return { hosts: probes, cluster, roundTrips: hosts.length };
}

/** One Proxmox host's part of the probe: its `nodes`, and the cluster's when `controller` is on it. */
async function probeHost(
  { host, shell, nodes, controller }: { host: string; shell: Shell | undefined; nodes: NodeSpec[]; controller: NodeSpec | undefined },
  opts: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ host: HostPolicyProbe; cluster: ClusterPolicyProbe | undefined }> {
  const p: HostPolicyProbe = {
    host,
    error: undefined,
    pve: undefined,
    storage: undefined,
    ha: undefined,
    crs: undefined,
    conntrackMax: undefined,
    confs: new Map(),
    inside: new Map(),
  };
  const commands: BatchCommand[] = [
    { argv: ['pveversion', '-v'] },
    { argv: ['cat', '/etc/pve/storage.cfg'] },
    // Absent until HA is configured: `cat` then fails, which means "no HA resources".
    { argv: ['sh', '-c', 'test -e /etc/pve/ha/resources.cfg || exit 3; cat /etc/pve/ha/resources.cfg'] },
    { argv: ['sh', '-c', 'test -e /etc/pve/datacenter.cfg || exit 0; cat /etc/pve/datacenter.cfg'] },
    { argv: ['cat', '/proc/sys/net/netfilter/nf_conntrack_max'] },
    ...nodes.map((n) => ({ argv: ['cat', `/etc/pve/lxc/${n.vmid}.conf`] })),
    ...nodes.map((n) => ({ argv: ['pct', 'exec', String(n.vmid), '--', 'sh', '-c', INSIDE_SCRIPT] })),
  ];
  // The controller's two reads in ONE `pct exec` (one pct start), framed by the container's sh: each keeps its own answer.
  const reads = controller
    ? buildNestedBatch(
        ['pct', 'exec', String(controller.vmid), '--'],
        [SUC_PLANS_ARGV, RANCHER_AGENT_ARGV].map((a) => ({ argv: [KUBECTL, ...a] })),
      )
    : undefined;
  if (reads) commands.push({ argv: reads.argv });
  const batch = buildBatch(commands, { parallel: 8, widen: true });
  let results: RunResult[];
  try {
    invariant(shell, `no shell for host ${host}`);
    const r = await shell.run(['sh', '-s'], { stdin: batch.script, timeoutMs: opts.timeoutMs ?? 120_000, signal: opts.signal });
    if (r.code !== 0 && !r.stdout.includes(batch.nonce)) {
      p.error = `the probe script failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}`;
      return { host: p, cluster: controller ? { sucPlans: undefined, rancher: undefined, error: p.error } : undefined };
    }
    results = parseBatch(r, batch);
  } catch (err) {
    if (opts.signal?.aborted || !(err instanceof PveK3sError)) throw err;
    p.error = err.message;
    return { host: p, cluster: controller ? { sucPlans: undefined, rancher: undefined, error: p.error } : undefined };
  }
  const [ver, storage, ha, dc, conntrack, ...rest] = results;
  if (ver?.code === 0) p.pve = parsePveVersion(ver.stdout);
  if (storage?.code === 0) p.storage = parseStorageTypes(storage.stdout);
  if (ha?.code === 0) p.ha = parseHaResources(ha.stdout);
  else if (ha?.code === 3) p.ha = [];
  if (dc?.code === 0) p.crs = parseCrs(dc.stdout);
  if (conntrack?.code === 0 && /^\d+\s*$/.test(conntrack.stdout)) p.conntrackMax = Number(conntrack.stdout.trim());
  nodes.forEach((n, i) => {
    const c = rest[i];
    if (c?.code === 0) p.confs.set(n.vmid, parseConf(c.stdout));
    const inside = rest[nodes.length + i];
    if (inside && inside.code === 0 && inside.stdout.includes('@@end')) p.inside.set(n.name, parseInside(inside.stdout));
  });
  const outer = rest[2 * nodes.length];
  if (!reads || !outer) return { host: p, cluster: undefined };
  const [plans, rancher] = nestedResults(outer, reads);
  const cluster: ClusterPolicyProbe = { sucPlans: undefined, rancher: undefined, error: undefined };
  if (plans && plans.code === 0) {
    try {
      const doc = JSON.parse(plans.stdout) as {
        items?: Array<{ metadata?: { namespace?: string; name?: string; labels?: Record<string, string> } }>;
      };
      const id = (i: NonNullable<typeof doc.items>[number]) => `${i.metadata?.namespace ?? ''}/${i.metadata?.name ?? ''}`;
      const ours = (i: NonNullable<typeof doc.items>[number]) => i.metadata?.labels?.[MANAGED_BY] === 'pve-k3s';
      cluster.sucPlans = (doc.items ?? []).filter((i) => !ours(i)).map(id);
      cluster.ownSucPlans = (doc.items ?? []).filter(ours).map(id);
    } catch {
      cluster.error = 'kubectl get plans.upgrade.cattle.io: the answer is not JSON';
    }
  } else if (plans && absent(plans)) cluster.sucPlans = [];
  else cluster.error = `kubectl get plans.upgrade.cattle.io failed: ${lastLine(plans)}`;
  if (rancher && rancher.code === 0) cluster.rancher = rancher.stdout.includes('"cattle-cluster-agent"');
  else if (rancher && absent(rancher)) cluster.rancher = false;
  else cluster.error ??= `kubectl get deployments -n cattle-system failed: ${lastLine(rancher)}`;
  return { host: p, cluster };
}

function lastLine(r: RunResult | undefined): string {
  return r ? failureReason(r, { singleLine: true }).slice(0, 300) : 'no answer';
}
