/** Builds ClusterFacts in memory for planner tests (no I/O). */
import type { ClusterFacts, NodeFacts } from '../../src/domain/facts.js';
import { parseVersion } from '../../src/domain/version.js';
import type { Role } from '../../src/inventory/types.js';

export interface NodeSketch {
  name: string;
  role?: Role;
  version: string;
  kubelet?: string;
  container?: NodeFacts['container'];
  ready?: boolean;
  schedulable?: boolean;
  cordonedByUs?: string;
  host?: string;
  vmid?: number;
  registered?: boolean;
}

export function facts(nodes: NodeSketch[], controller?: string): ClusterFacts {
  return {
    cluster: 'test',
    controller: controller ?? nodes.find((n) => n.role === 'server')?.name ?? nodes[0]!.name,
    nodes: nodes.map((n, i) => ({
      name: n.name,
      vmid: n.vmid ?? 100 + i,
      host: n.host ?? (i % 2 === 0 ? 'pve1' : 'pve2'),
      role: n.role ?? 'agent',
      container: n.container ?? 'running',
      lock: undefined,
      installed: parseVersion(n.version),
      installedError: undefined,
      kube:
        n.registered === false
          ? undefined
          : {
              ready: n.ready ?? true,
              schedulable: n.schedulable ?? true,
              kubeletVersion: parseVersion(n.kubelet ?? n.version),
              kubeletVersionRaw: n.kubelet ?? n.version,
              cordonedByUs: n.cordonedByUs,
              k3sRole: n.role ?? 'agent',
            },
    })),
    kubeError: undefined,
    hostErrors: {},
    roundTrips: 2,
  };
}

/** One controller and three workers, all at `version`. */
export function labLike(version: string): NodeSketch[] {
  return [
    { name: 'k3s-ctrl-1', role: 'server', version },
    { name: 'k3s-worker-1', version },
    { name: 'k3s-worker-2', version },
    { name: 'k3s-worker-3', version },
  ];
}
