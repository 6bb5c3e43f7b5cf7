/** New Kubernetes objects of the lab's clusters, as k3s registers them (a node's labels and annotations). */
import { uid } from './ids.js';
import type { KubeNode } from './types.js';

/** What a node is made from: its name, where its container is, its address and role. */
export interface NodeIdentity {
  name: string;
  host: string;
  vmid: number;
  ip: string;
  role: 'server' | 'agent';
  /** Its position in the cluster (the pod CIDR 10.42.<index>.0/24). */
  index: number;
}

/** A node as a k3s server or agent registers it; `servers` > 1 adds the etcd role label. */
export function kubeNode(p: NodeIdentity, servers: number, createdAt: number): KubeNode {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/instance-type': 'k3s',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': p.name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'k3s',
  };
  if (p.role === 'server') {
    labels['node-role.kubernetes.io/control-plane'] = 'true';
    labels['node-role.kubernetes.io/master'] = 'true';
    if (servers > 1) labels['node-role.kubernetes.io/etcd'] = 'true';
  }
  return {
    name: p.name,
    host: p.host,
    vmid: p.vmid,
    labels,
    annotations: {
      'alpha.kubernetes.io/provided-node-ip': p.ip,
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/public-ip': p.ip,
      'k3s.io/hostname': p.name,
      'k3s.io/internal-ip': p.ip,
      'node.alpha.kubernetes.io/ttl': '0',
      'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    },
    unschedulable: false,
    unschedulableSince: undefined,
    createdAt,
    internalIp: p.ip,
    podCidr: `10.42.${p.index}.0/24`,
    uid: uid(),
  };
}
