/**
 * The model of k3s services and what Kubernetes sees of them: pure state transitions (start,
 * stop, boot, shut down) and views computed from timestamps when read. A service is
 * `activating` for the first half of restartMs (API down), its node Ready after restartMs,
 * with the kubelet version of the binary it was started with. What else happens when a server
 * starts or stops (its datastore, its token files) is not known here: callers pass the hooks
 * (hooks.ts composes the lab's).
 */
import { envPath, parseEnvFile, parseUnitExec, unitPath } from './k3s-files.js';
import { kubeNode } from './kube-objects.js';
import { mkdirp, readFile } from './vfs.js';
import { breakage } from './known-breakages.js';
import type { ContainerState, KubeNode, LabState, Located, ServiceName, ServiceState } from './types.js';

export type ServiceStatus = 'active' | 'activating' | 'inactive' | 'failed';

/** What the rest of the lab does when a k3s server starts or stops. */
export interface ServiceHooks {
  /** A k3s server came up in its cluster (its node registered). */
  serverStarted(s: LabState, loc: Located): void;
  /** A running k3s server is being stopped (`systemctl stop`, an uninstall script). */
  serverStopping(s: LabState, ct: ContainerState): void;
}

export function findContainer(s: LabState, host: string, vmid: number): Located | undefined {
  const h = s.hosts.find((x) => x.name === host);
  const ct = h?.containers.find((c) => c.vmid === vmid);
  return h && ct ? { host: h, ct } : undefined;
}

/** A service of a container at a moment: what serviceStatus() reads. */
export interface ServiceAt {
  ct: ContainerState;
  svc: ServiceState | undefined;
  now: number;
}

export function serviceStatus(s: LabState, { ct, svc, now }: ServiceAt): ServiceStatus {
  if (!svc || !svc.running || ct.status !== 'running') return 'inactive';
  if (svc.failure === 'failed') return 'failed';
  if (svc.failure !== undefined) return 'activating';
  return now < svc.startedAt + s.timing.restartMs / 2 ? 'activating' : 'active';
}

/** The cluster whose API answers on this container's 127.0.0.1:6443, if any. */
export function apiCluster(s: LabState, ct: ContainerState, now: number): string | undefined {
  const svc = ct.k3s.services.k3s;
  return serviceStatus(s, { ct, svc, now }) === 'active' ? svc?.cluster : undefined;
}

export interface NodeView {
  ready: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  kubelet: string;
  nodeArgs: string[];
}

/** One cluster of the lab as its API server sees it at a moment: what the node and pod views are computed from. */
export interface ClusterAt {
  s: LabState;
  clusterId: string;
  now: number;
}

/** Ready condition, kubelet version and node-args of one node as its cluster sees it at `at.now`. */
export function nodeView(at: ClusterAt, node: KubeNode): NodeView {
  const { s, clusterId, now } = at;
  const loc = findContainer(s, node.host, node.vmid);
  const ct = loc?.ct;
  const mine = ct ? (Object.entries(ct.k3s.services) as Array<[ServiceName, ServiceState]>).filter(([, v]) => v.cluster === clusterId) : [];
  const [name, svc] = mine.find(([, v]) => v.running) ?? mine[0] ?? [undefined, undefined];
  const others = ct ? Object.values(ct.k3s.services).filter((v) => v.running && v.cluster !== clusterId) : [];
  // An agent's kubelet loses its ports to a server started beside it (bare install.sh on a worker).
  const rogue = name === 'k3s-agent' ? others[0] : undefined;
  const kubelet = svc ? (now >= svc.startedAt + s.timing.restartMs ? svc.runningVersion : (svc.previousVersion ?? svc.runningVersion)) : '';
  const argsFrom =
    rogue && ct ? serviceArgs(ct, rogue === ct.k3s.services.k3s ? 'k3s' : 'k3s-agent') : ct && name ? serviceArgs(ct, name) : [];
  const base = { kubelet, nodeArgs: argsFrom };
  const status = ct && svc ? serviceStatus(s, { ct, svc, now }) : 'inactive';
  if (!ct || status === 'inactive' || status === 'failed') {
    return { ...base, ready: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
  }
  const notReady = (message: string) => ({ ...base, ready: 'False' as const, reason: 'KubeletNotReady', message });
  if (rogue)
    return notReady(
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: port 6443 and 10250 already in use by another k3s',
    );
  // Known k3s-in-LXC breakages of the version it runs in this container and host (known-breakages.ts).
  const broken = name && svc ? breakage(s, { host: node.host, ct, service: name, version: svc.runningVersion }) : undefined;
  if (broken !== undefined) return notReady(broken);
  if (node.neverReady)
    return notReady(
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    );
  if (!svc || status === 'activating' || now < svc.startedAt + s.timing.restartMs)
    return notReady('PLEG is not healthy: pleg has yet to be successful');
  const fails = node.failsAfter;
  if (fails && svc.runningVersion === fails.version && now >= svc.startedAt + s.timing.restartMs + fails.ms)
    return notReady('container runtime is down: failed to get container status: rpc error: code = Unavailable');
  return { ...base, ready: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
}

/** `k3s.io/node-args`: the unit's ExecStart words plus the env file's URL and token, masked as k3s does. */
export function serviceArgs(ct: ContainerState, name: ServiceName): string[] {
  const unit = readFile(ct.fs, unitPath(name));
  const env = readFile(ct.fs, envPath(name));
  const words = 'content' in unit ? parseUnitExec(unit.content) : [];
  const vars = 'content' in env ? parseEnvFile(env.content) : {};
  const out = words.map((w, i) => (i > 0 && /^--(token|agent-token)$/.test(words[i - 1] ?? '') ? '********' : w));
  if (vars.K3S_URL !== undefined) out.push('--server', vars.K3S_URL);
  if (vars.K3S_TOKEN !== undefined) out.push('--token', '********');
  return out;
}

export function nodeReady(at: ClusterAt, node: KubeNode): boolean {
  return nodeView(at, node).ready === 'True';
}

/** The token in either form (`K10...::server:pw` or `pw`) matches the cluster's. */
export function tokenMatches(s: LabState, token: string | undefined): boolean {
  if (token === undefined || token === '') return false;
  const pw = s.token.split('::server:')[1];
  return token === s.token || token === pw;
}

/** Finds the server a K3S_URL / --server points at (by IP in net0). */
export function serverAt(s: LabState, url: string): Located | undefined {
  const m = /^https:\/\/([^:/]+)(?::6443)?\/?$/.exec(url);
  if (!m) return undefined;
  for (const host of s.hosts) {
    for (const ct of host.containers) {
      const net = ct.config.find(([k]) => k === 'net0')?.[1] ?? '';
      if (net.includes(`ip=${m[1]}/`) && ct.k3s.services.k3s) return { host, ct };
    }
  }
  return undefined;
}

/**
 * (Re)starts a service as systemd would: it runs the installed binary; an agent (or a joining
 * server) must reach a server with the right token; a server with no datastore and nothing to
 * join starts a NEW cluster (how a bare install.sh on a worker breaks it).
 */
/** What a service transition is told: which service, when, and what else the lab does (hooks.ts). */
export interface ServiceChange {
  service: ServiceName;
  now: number;
  hooks: ServiceHooks;
}

export function startService(s: LabState, loc: Located, { service: name, now, hooks }: ServiceChange): ServiceState | undefined {
  const { ct } = loc;
  const old = ct.k3s.services[name];
  if (!old) return undefined;
  const prevNode = Object.values(s.clusters)
    .map((c) => c.nodes[ct.hostname])
    .find((n) => n !== undefined);
  const previous = prevNode ? nodeView({ s, clusterId: old.cluster, now }, prevNode).kubelet || undefined : undefined;
  const svc: ServiceState = {
    ...old,
    running: true,
    startedAt: now,
    runningVersion: ct.k3s.binaryVersion ?? '',
    previousVersion: previous,
    failure: undefined,
  };
  ct.k3s.services[name] = svc;
  if (ct.k3s.binaryVersion === undefined || ct.switches.serviceFails) {
    svc.failure = 'failed';
    return svc;
  }
  const args = serviceArgs(ct, name);
  const env = readFile(ct.fs, envPath(name));
  const vars = 'content' in env ? parseEnvFile(env.content) : {};
  const flag = (f: string) => {
    const i = args.indexOf(f);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const url = vars.K3S_URL ?? flag('--server');
  let token = vars.K3S_TOKEN ?? (flag('--token') === '********' ? undefined : flag('--token'));
  const tokenFile = vars.K3S_TOKEN_FILE;
  if (tokenFile !== undefined) {
    const f = readFile(ct.fs, tokenFile);
    token = 'content' in f ? f.content.trim() : undefined;
  }
  if (name === 'k3s' && ct.k3s.dataCluster !== undefined) {
    svc.cluster = ct.k3s.dataCluster;
  } else if (url !== undefined) {
    const target = serverAt(s, url);
    const cluster = target?.ct.k3s.services.k3s?.cluster;
    if (!target || cluster === undefined) svc.failure = `cannot reach server ${url}`;
    else if (!tokenMatches(s, token)) svc.failure = 'token rejected by server';
    else svc.cluster = cluster;
    if (name === 'k3s' && svc.failure === undefined) ct.k3s.dataCluster = svc.cluster;
  } else if (name === 'k3s') {
    const id = newClusterId(s, ct);
    s.clusters[id] ??= { nodes: {}, pods: [], pdbs: [] };
    svc.cluster = id;
    ct.k3s.dataCluster = id;
  } else {
    svc.failure = 'no server URL';
  }
  if (svc.failure === undefined) ensureNode({ s, clusterId: svc.cluster, now }, loc, name === 'k3s' ? 'server' : 'agent');
  if (name === 'k3s' && svc.failure === undefined) hooks.serverStarted(s, loc);
  return svc;
}

/** The cluster id a server with no datastore and nothing to join creates: the lab's own while it has none. */
export function newClusterId(s: LabState, ct: ContainerState): string {
  return s.clusters[s.cluster] === undefined ? s.cluster : `${ct.hostname}-cluster`;
}

function ensureNode({ s, clusterId, now }: ClusterAt, loc: Located, role: 'server' | 'agent'): void {
  const cluster = s.clusters[clusterId];
  if (!cluster || cluster.nodes[loc.ct.hostname]) return;
  const net = loc.ct.config.find(([k]) => k === 'net0')?.[1] ?? '';
  const ip = /ip=([0-9.]+)\//.exec(net)?.[1] ?? '10.0.20.250';
  const index = Object.keys(cluster.nodes).length;
  cluster.nodes[loc.ct.hostname] = kubeNode({ name: loc.ct.hostname, host: loc.host.name, vmid: loc.ct.vmid, ip, role, index }, 1, now);
}

export function stopService(s: LabState, ct: ContainerState, { service: name, hooks }: Omit<ServiceChange, 'now'>): void {
  const svc = ct.k3s.services[name];
  if (!svc) return;
  if (name === 'k3s' && svc.running) hooks.serverStopping(s, ct);
  svc.running = false;
}

/** Boot: the bind mounts of its config, then every enabled service starts. */
export function bootContainer(s: LabState, loc: Located, { now, hooks }: Omit<ServiceChange, 'service'>): void {
  loc.ct.status = 'running';
  loc.ct.startedAt = now;
  applyBootMounts(loc.ct);
  for (const name of ['k3s', 'k3s-agent'] as const) {
    const svc = loc.ct.k3s.services[name];
    if (svc?.enabled) startService(s, loc, { service: name, now, hooks });
  }
}

/** At boot: `lxc.mount.entry: /dev/kmsg dev/kmsg ... create=file` makes /dev/kmsg exist. */
export function applyBootMounts(ct: ContainerState): void {
  if (ct.config.some(([k, v]) => k === 'lxc.mount.entry' && /^\/dev\/kmsg\s+dev\/kmsg\s/.test(v))) {
    mkdirp(ct.fs, '/dev');
    ct.fs['/dev/kmsg'] ??= { content: '', mode: 0o644 };
  }
}

export function shutdownContainer(ct: ContainerState): void {
  ct.status = 'stopped';
  for (const svc of Object.values(ct.k3s.services)) svc.running = false;
}
