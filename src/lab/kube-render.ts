/** What kubectl prints for the lab's Kubernetes objects: JSON like the API server's, and tables. */
import { nodeView, type ClusterAt } from './k3s-model.js';
import type { KubeCluster, KubeNode, Pod, PodDisruptionBudget } from './types.js';

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');

export function nodeJson(at: ClusterAt, n: KubeNode): unknown {
  const { now } = at;
  const v = nodeView(at, n);
  const heartbeat = iso(now);
  const cond = (type: string, reason: string, message: string) => ({
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: iso(n.createdAt),
    message,
    reason,
    status: 'False',
    type,
  });
  const spec: Record<string, unknown> = { podCIDR: n.podCidr, podCIDRs: [n.podCidr], providerID: `k3s://${n.name}` };
  if (n.unschedulable) {
    spec.unschedulable = true;
    spec.taints = [{ effect: 'NoSchedule', key: 'node.kubernetes.io/unschedulable', timeAdded: iso(n.unschedulableSince ?? now) }];
  }
  const nodeArgs = `[${v.nodeArgs.map((a) => JSON.stringify(a)).join(', ')}]`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: { ...n.annotations, 'k3s.io/node-args': nodeArgs },
      creationTimestamp: iso(n.createdAt),
      finalizers: n.labels['node-role.kubernetes.io/control-plane'] ? ['wrangler.cattle.io/node'] : [],
      labels: n.labels,
      name: n.name,
      resourceVersion: String(480000 + (Math.floor(now / 1000) % 100000)),
      uid: n.uid,
    },
    spec,
    status: {
      addresses: [
        { address: n.internalIp, type: 'InternalIP' },
        { address: n.name, type: 'Hostname' },
      ],
      allocatable: { cpu: '4', 'ephemeral-storage': '39634219985', memory: '8048564Ki', pods: '110' },
      capacity: { cpu: '4', 'ephemeral-storage': '40743660Ki', memory: '8048564Ki', pods: '110' },
      conditions: [
        cond('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        {
          lastHeartbeatTime: heartbeat,
          lastTransitionTime: iso(now),
          message: v.message,
          reason: v.reason,
          status: v.ready,
          type: 'Ready',
        },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: n.uid.slice(0, 4),
        containerRuntimeVersion: 'containerd://1.7.27-k3s1',
        kernelVersion: '6.8.12-4-pve',
        kubeProxyVersion: v.kubelet,
        kubeletVersion: v.kubelet,
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '',
      },
    },
  };
}

export function listJson(items: unknown[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4)}\n`;
}

export function podJson(at: ClusterAt, p: Pod): unknown {
  const cluster = at.s.clusters[at.clusterId];
  const node = p.node === '' ? undefined : cluster?.nodes[p.node];
  const ready = node !== undefined && nodeView(at, node).ready === 'True';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      creationTimestamp: iso(p.createdAt),
      labels: { app: p.app, ...p.labels },
      name: p.name,
      namespace: p.namespace,
      ...(p.owner
        ? {
            ownerReferences: [
              {
                apiVersion:
                  p.owner.kind === 'ReplicaSet' || p.owner.kind === 'StatefulSet' || p.owner.kind === 'DaemonSet' ? 'apps/v1' : 'v1',
                blockOwnerDeletion: true,
                controller: true,
                kind: p.owner.kind,
                name: p.owner.name,
                uid: p.uid,
              },
            ],
          }
        : {}),
      uid: p.uid,
    },
    spec: {
      containers: [{ image: `lab/${p.app}:latest`, name: p.app }],
      ...(p.node !== '' ? { nodeName: p.node } : {}),
      volumes: p.emptyDir ? [{ emptyDir: {}, name: 'data' }] : [],
    },
    status: {
      conditions: [{ status: ready ? 'True' : 'False', type: 'Ready' }],
      ...(p.node !== ''
        ? {
            containerStatuses: [{ name: p.app, ready, restartCount: p.restarts ?? 0, state: { running: { startedAt: iso(p.createdAt) } } }],
          }
        : {}),
      phase: p.node === '' ? 'Pending' : 'Running',
    },
  };
}

export function pdbJson(at: ClusterAt, cluster: KubeCluster, b: PodDisruptionBudget): unknown {
  const healthy = healthyPods(at, cluster, b);
  const expected = cluster.pods.filter((p) => p.namespace === b.namespace && p.app === b.app).length;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: b.name, namespace: b.namespace },
    spec: { minAvailable: b.minAvailable, selector: { matchLabels: { app: b.app } } },
    status: {
      currentHealthy: healthy,
      desiredHealthy: b.minAvailable,
      disruptionsAllowed: Math.max(0, healthy - b.minAvailable),
      expectedPods: expected,
    },
  };
}

export function healthyPods(at: ClusterAt, cluster: KubeCluster, b: PodDisruptionBudget): number {
  return cluster.pods.filter((p) => {
    if (p.namespace !== b.namespace || p.app !== b.app || p.node === '') return false;
    const n = cluster.nodes[p.node];
    return n !== undefined && nodeView(at, n).ready === 'True';
  }).length;
}

/** `kubectl get nodes`: tabwriter columns padded to the widest cell plus 3. */
export function nodesTable(at: ClusterAt, nodes: KubeNode[]): string {
  const { now } = at;
  const rows = [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']];
  for (const n of nodes) {
    const v = nodeView(at, n);
    const status = (v.ready === 'True' ? 'Ready' : 'NotReady') + (n.unschedulable ? ',SchedulingDisabled' : '');
    const roles = Object.keys(n.labels)
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .sort();
    rows.push([n.name, status, roles.length ? roles.join(',') : '<none>', humanDuration(now - n.createdAt), v.kubelet]);
  }
  return table(rows);
}

export function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n') + '\n';
}

/** k8s.io/apimachinery duration.HumanDuration, as kubectl's AGE column shows it. */
export function humanDuration(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec < 0) return '0s';
  if (sec < 120) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 10) return sec % 60 === 0 ? `${min}m` : `${min}m${sec % 60}s`;
  if (min < 180) return `${min}m`;
  const h = Math.floor(sec / 3600);
  if (h < 8) return min % 60 === 0 ? `${h}h` : `${h}h${min % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / (24 * 365));
  if (y < 8) return `${y}y${Math.floor((h % (24 * 365)) / 24)}d`;
  return `${y}y`;
}
