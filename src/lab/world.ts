/**
 * Builds a fresh lab world: Proxmox hosts, k3s containers configured as docs/install.md says, the
 * k3s files the installer would have written, and a small cluster with realistic pods.
 */
import { DEFAULT_CHANNELS } from './catalog.js';
import { ensureDatastoreFiles } from './datastore.js';
import { clusterToken, hexId, suffix, uid } from './ids.js';
import { BIN, binaryContent, envPath, renderEnvFile, renderUnit, unitPath } from './k3s-files.js';
import { kubeNode, type NodeIdentity } from './kube-objects.js';
import { ensureServerFiles } from './server-files.js';
import { newFs } from './vfs.js';
import type {
  ContainerState,
  FileMap,
  HostState,
  K3sInstall,
  KubeCluster,
  LabInitRecord,
  LabState,
  LabTiming,
  Pod,
  ServiceName,
} from './types.js';

export const DEFAULT_TIMING: LabTiming = { installMs: 1500, restartMs: 2000, drainPerPodMs: 200, pctExecMs: 0, sshRttMs: 0 };
export const DEFAULT_VERSION = 'v1.33.3+k3s1';
export const DEFAULT_INSTALL_SCRIPT_URL = 'https://get.k3s.io';
const DAY = 86_400_000;

/** A planned node of a new lab. */
export type NodePlan = NodeIdentity;

/** Which node goes where: servers then workers, vmids from 100, hosts filled in blocks. */
export function planNodes(init: Pick<LabInitRecord, 'hosts' | 'servers' | 'workers'>): NodePlan[] {
  const total = init.servers + init.workers;
  const out: NodePlan[] = [];
  for (let i = 0; i < total; i++) {
    const server = i < init.servers;
    const name = server ? (init.servers === 1 ? 'k3s-ctrl-1' : `k3s-server-${i + 1}`) : `k3s-worker-${i - init.servers + 1}`;
    const host = `pve${Math.floor((i * init.hosts) / total) + 1}`;
    out.push({ name, vmid: 100 + i, host, role: server ? 'server' : 'agent', ip: nodeIp(i), index: i });
  }
  return out;
}

export function nodeIp(i: number): string {
  return `10.0.${20 + Math.floor(i / 200)}.${20 + (i % 200)}`;
}

export function buildWorld(init: LabInitRecord, now = Date.now()): LabState {
  const token = clusterToken();
  const hosts: HostState[] = Array.from({ length: init.hosts }, (_, i) => ({
    name: `pve${i + 1}`,
    containers: [],
    fs: newFs(['/var/lib/vz', '/var/lib/vz/dump']),
  }));
  const plans = planNodes(init);
  const first = plans[0];
  const cluster: KubeCluster = { nodes: {}, pods: [], pdbs: [] };
  for (const p of plans) {
    const version = init.nodeVersions[p.name] ?? init.version;
    const host = hosts.find((h) => h.name === p.host);
    if (!host || !first) continue;
    const how = installOptions(p, { first, token, servers: init.servers });
    const ct = k3sContainer(p, now);
    ct.k3s = writeInstall(ct.fs, { ...how, version, cluster: init.cluster, startedAt: now - DAY });
    if (how.cmd === 'server') {
      ensureServerFiles({ token, cluster: init.cluster }, ct);
      ensureDatastoreFiles(ct);
    }
    host.containers.push(ct);
    cluster.nodes[p.name] = kubeNode(p, init.servers, now - 30 * DAY);
  }
  const h1 = hosts[0];
  if (h1) h1.containers.push(piholeContainer(Math.max(110, 100 + plans.length), now));
  cluster.pods = initialPods(plans, now - 30 * DAY);
  cluster.pdbs = [{ namespace: 'vault', name: 'vault', minAvailable: 1, app: 'vault' }];
  return {
    schema: 1,
    cluster: init.cluster,
    token,
    installScriptUrl: DEFAULT_INSTALL_SCRIPT_URL,
    channels: init.channels ?? DEFAULT_CHANNELS,
    timing: init.timing,
    hosts,
    clusters: { [init.cluster]: cluster },
    faults: [],
    channelFaults: [],
    seq: 0,
    init,
  };
}

/** How the installer was run on node `p`: its command, arguments and environment. */
interface InstallCommand {
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

/** `first`: the lab's first server (the others join it); `servers`: how many there are. */
function installOptions(p: NodePlan, { first, token, servers }: { first: NodePlan; token: string; servers: number }): InstallCommand {
  const url = `https://${first.ip}:6443`;
  if (p.role === 'agent') return { cmd: 'agent', args: [], env: { K3S_TOKEN: token, K3S_URL: url } };
  if (servers === 1) return { cmd: 'server', args: [], env: {} };
  if (p.index === 0) return { cmd: 'server', args: ['--cluster-init'], env: { K3S_TOKEN: token } };
  return { cmd: 'server', args: ['--server', url], env: { K3S_TOKEN: token } };
}

/** Writes what a completed install leaves behind and returns the matching k3s state. */
export function writeInstall(
  fs: FileMap,
  { cmd, args, env, version, cluster, startedAt }: InstallCommand & { version: string; cluster: string; startedAt: number },
): K3sInstall {
  const service: ServiceName = cmd === 'server' ? 'k3s' : 'k3s-agent';
  fs[BIN] = { content: binaryContent(version), mode: 0o755 };
  for (const l of ['kubectl', 'crictl', 'ctr']) fs[`/usr/local/bin/${l}`] = { content: '', mode: 0o777, link: 'k3s' };
  fs['/usr/local/bin/k3s-killall.sh'] = { content: '#!/bin/sh\n# k3s-killall.sh (lab)\n', mode: 0o755 };
  fs[`/usr/local/bin/${service}-uninstall.sh`] = { content: '#!/bin/sh\n# uninstall (lab)\n', mode: 0o755 };
  fs[unitPath(service)] = { content: renderUnit(service, cmd, args), mode: 0o644 };
  fs[envPath(service)] = { content: renderEnvFile(env), mode: 0o600 };
  return {
    binaryVersion: version,
    dataCluster: cmd === 'server' ? cluster : undefined,
    services: {
      [service]: {
        enabled: true,
        running: true,
        startedAt,
        runningVersion: version,
        previousVersion: undefined,
        cluster,
        failure: undefined,
      },
    },
  };
}

function k3sContainer(p: NodePlan, now: number): ContainerState {
  const mac = `BC:24:11:5E:7A:${(p.index + 0x10).toString(16).toUpperCase().padStart(2, '0').slice(-2)}`;
  const fs = newFs(['/var/lib/rancher', '/etc/rancher']);
  fs['/etc/hostname'] = { content: `${p.name}\n`, mode: 0o644 };
  fs['/etc/os-release'] = { content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', mode: 0o644 };
  fs['/dev/kmsg'] = { content: '', mode: 0o644 };
  return {
    vmid: p.vmid,
    hostname: p.name,
    status: 'running',
    lock: '',
    config: [
      ['arch', 'amd64'],
      ['cores', '4'],
      ['features', 'nesting=1'],
      ['hostname', p.name],
      ['memory', '8192'],
      ['net0', `name=eth0,bridge=vmbr0,firewall=1,gw=10.0.20.1,hwaddr=${mac},ip=${p.ip}/24,type=veth`],
      ['onboot', '1'],
      ['ostype', 'debian'],
      ['rootfs', `local-lvm:vm-${p.vmid}-disk-0,size=40G`],
      ['swap', '0'],
      ['tags', p.role === 'server' ? 'k3s;server' : 'k3s;worker'],
      ['unprivileged', '0'],
      ['lxc.apparmor.profile', 'unconfined'],
      ['lxc.cgroup2.devices.allow', 'a'],
      ['lxc.cap.drop', ''],
      ['lxc.mount.auto', '"proc:rw sys:rw"'],
      ['lxc.mount.entry', '/dev/kmsg dev/kmsg none defaults,bind,create=file'],
    ],
    snapshots: [],
    fs,
    k3s: { binaryVersion: undefined, services: {}, dataCluster: undefined },
    switches: {},
    startedAt: now - 14 * DAY,
    maxmem: 8 * 1024 ** 3,
    maxdisk: 40 * 1024 ** 3,
    maxcpu: 4,
  };
}

function piholeContainer(vmid: number, now: number): ContainerState {
  const fs = newFs();
  fs['/etc/hostname'] = { content: 'pihole\n', mode: 0o644 };
  return {
    vmid,
    hostname: 'pihole',
    status: 'running',
    lock: '',
    config: [
      ['arch', 'amd64'],
      ['cores', '1'],
      ['hostname', 'pihole'],
      ['memory', '1024'],
      ['net0', 'name=eth0,bridge=vmbr0,gw=10.0.20.1,hwaddr=BC:24:11:00:01:10,ip=10.0.20.5/24,type=veth'],
      ['onboot', '1'],
      ['ostype', 'debian'],
      ['rootfs', `local-lvm:vm-${vmid}-disk-0,size=8G`],
      ['swap', '512'],
      ['unprivileged', '1'],
    ],
    snapshots: [],
    fs,
    k3s: { binaryVersion: undefined, services: {}, dataCluster: undefined },
    switches: {},
    startedAt: now - 3 * DAY,
    maxmem: 1024 ** 3,
    maxdisk: 8 * 1024 ** 3,
    maxcpu: 1,
  };
}

function initialPods(plans: NodePlan[], createdAt: number): Pod[] {
  const servers = plans.filter((p) => p.role === 'server');
  const workers = plans.filter((p) => p.role === 'agent');
  const ctrl = servers[0]?.name ?? '';
  const spread = workers.length > 0 ? workers : servers;
  type PodSpec = Pick<Pod, 'namespace' | 'name' | 'app' | 'owner' | 'node'> & { emptyDir?: boolean };
  const pod = ({ namespace, name, app, owner, node, emptyDir = false }: PodSpec): Pod => ({
    namespace,
    name,
    app,
    owner,
    emptyDir,
    node,
    createdAt,
    uid: uid(),
  });
  const rs = (namespace: string, app: string, { node, emptyDir = false }: { node: string; emptyDir?: boolean }): Pod => {
    const rsName = `${app}-${hexId(9)}`;
    return pod({ namespace, name: `${rsName}-${suffix()}`, app, owner: { kind: 'ReplicaSet', name: rsName }, node, emptyDir });
  };
  const pods: Pod[] = [
    rs('kube-system', 'coredns', { node: ctrl }),
    rs('kube-system', 'local-path-provisioner', { node: ctrl }),
    rs('kube-system', 'metrics-server', { node: ctrl }),
    rs('kube-system', 'traefik', { node: ctrl }),
  ];
  const webRs = `web-${hexId(9)}`;
  for (let i = 0; i < 3; i++) {
    pods.push(
      pod({
        namespace: 'default',
        name: `${webRs}-${suffix()}`,
        app: 'web',
        owner: { kind: 'ReplicaSet', name: webRs },
        node: spread[i % spread.length]?.name ?? ctrl,
      }),
    );
  }
  pods.push(
    pod({
      namespace: 'vault',
      name: 'vault-0',
      app: 'vault',
      owner: { kind: 'StatefulSet', name: 'vault' },
      node: spread[0]?.name ?? ctrl,
    }),
  );
  pods.push(rs('default', 'cache', { node: spread[1 % spread.length]?.name ?? ctrl, emptyDir: true }));
  const dsHash = hexId(5);
  for (const p of plans) {
    pods.push(
      pod({
        namespace: 'kube-system',
        name: `svclb-traefik-${dsHash}-${suffix()}`,
        app: 'svclb-traefik',
        owner: { kind: 'DaemonSet', name: `svclb-traefik-${dsHash}` },
        node: p.name,
      }),
    );
  }
  return pods;
}
