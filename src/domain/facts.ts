/** What pve-k3s knows about a cluster at one moment: the planner's only input besides policy. */
import type { K3sVersion } from './version.js';
import type { Role } from './roles.js';

export type ContainerState = 'running' | 'stopped' | 'missing' | 'unknown';

/** Annotation pve-k3s sets on a node it cordons, so any later run knows to uncordon it. */
export const CORDON_ANNOTATION = 'pve-k3s.io/cordoned-for-upgrade';

export interface KubeNodeFacts {
  ready: boolean;
  schedulable: boolean;
  /** status.nodeInfo.kubeletVersion, parsed; undefined when it is not a k3s version. */
  kubeletVersion: K3sVersion | undefined;
  kubeletVersionRaw: string;
  /** Value of CORDON_ANNOTATION (the target version it was cordoned for), if pve-k3s cordoned it. */
  cordonedByUs: string | undefined;
  /** `server` or `agent` from the k3s.io/node-args annotation, when present. */
  k3sRole: Role | undefined;
}

export interface NodeFacts {
  name: string;
  vmid: number;
  host: string;
  /** Role according to the inventory. */
  role: Role;
  container: ContainerState;
  /** Proxmox lock (backup, snapshot, migrate...) or undefined. */
  lock: string | undefined;
  /** Installed k3s (`k3s --version`); null = not installed; undefined = could not be read. */
  installed: K3sVersion | null | undefined;
  /** Why `installed` could not be read. */
  installedError: string | undefined;
  /** The node as the cluster sees it; undefined when not registered (or kubectl failed). */
  kube: KubeNodeFacts | undefined;
}

export interface ClusterFacts {
  cluster: string;
  /** The server whose kubectl was used. */
  controller: string;
  nodes: NodeFacts[];
  /** Why the controller's kubectl could not be read, if it could not. */
  kubeError: string | undefined;
  /** Per Proxmox host, why it could not be probed. */
  hostErrors: Record<string, string>;
  /** Remote round trips spent gathering (for --verbose and benchmarks). */
  roundTrips: number;
  /** Nodes found on another Proxmox host than the inventory says (migrated); their facts use the real host. */
  relocated?: Relocation[];
  /**
   * Nodes an interrupted run installed or restarted without confirming their health (from its
   * journal): they may look done, so the plan runs their health gate again first.
   */
  unconfirmed?: string[];
}

/** A container found on another Proxmox node than the inventory names (src/facts/locate.ts). */
export interface Relocation {
  node: string;
  vmid: number;
  /** The host the inventory names. */
  from: string;
  /** The Proxmox node that holds it now. */
  to: string;
  /** `to` is declared under the inventory's hosts (so it was probed). */
  declared: boolean;
}
