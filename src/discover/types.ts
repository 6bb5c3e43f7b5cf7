/** What discovery finds on Proxmox: containers (any source), and the k3s nodes among them. */
import type { HostAccess, Role } from '../inventory/types.js';

/** One LXC container as a listing shows it (cluster resources, `pct list`, or the REST API). */
export interface FoundContainer {
  vmid: number;
  /** The container's name (its hostname). */
  name: string;
  /** The Proxmox node that holds it now. */
  node: string;
  status: string;
  /** Proxmox tags (`k3s;server` -> ['k3s', 'server']); undefined when the listing had none to give. */
  tags: string[] | undefined;
  lock: string | undefined;
  /** Its static addresses, from `pct config` (read for containers on the hosts given). */
  addresses?: Address[];
}

/** An address of a container: from a `netN` line of its config, or from its Kubernetes node. */
export interface Address {
  address: string;
  /** `net0`... (the `ip=`/`ip6=` of that interface), or `InternalIP`/`ExternalIP` (the node's status). */
  from: string;
}

/** What the k3s services inside a running container say. */
export interface ServiceProbe {
  /** /etc/systemd/system/k3s.service exists. */
  server: boolean;
  /** /etc/systemd/system/k3s-agent.service exists. */
  agent: boolean;
  /** `systemctl is-active k3s k3s-agent`, when it answered. */
  serverActive: string | undefined;
  agentActive: string | undefined;
}

export interface DiscoveredNode {
  /** Kubernetes node name (the container's hostname, lowercased). */
  name: string;
  vmid: number;
  /** Proxmox node that holds the container. */
  host: string;
  role: Role;
  /** Where the role came from. */
  roleFrom: 'services' | 'tags';
  status: string;
  /** Static addresses from its config, then those its Kubernetes node reports (when asked for). */
  addresses: Address[];
}

export interface SkippedContainer {
  vmid: number;
  name: string;
  host: string;
  reason: string;
  addresses: Address[];
}

export interface DiscoveredHost {
  /** Proxmox node name. */
  name: string;
  /** How pve-k3s reached it; undefined when discovery only saw it in the cluster listing. */
  access: HostAccess | undefined;
}

export interface Discovery {
  /** Where the container list came from. */
  source: 'cluster-resources' | 'pct-list' | 'api';
  hosts: DiscoveredHost[];
  nodes: DiscoveredNode[];
  skipped: SkippedContainer[];
  /** Things the user should know (unprobed nodes, disagreeing tags...). */
  warnings: string[];
  /** Remote round trips spent (shell batches and API requests). */
  roundTrips: number;
}
