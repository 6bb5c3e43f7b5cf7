/**
 * The inventory: which Proxmox hosts and LXC containers form one k3s cluster, and the
 * policies pve-k3s applies to it. This is the validated, defaults-applied form; the YAML file
 * format is documented in docs/inventory.md and validated by ./schema.ts.
 */
import type { Role, UpgradeOrder } from '../domain/roles.js';
import type { UpgradeWindow } from '../domain/policy.js';
export type { Role, UpgradeOrder, UpgradeWindow };

/** How to reach a Proxmox host. Exactly one of the three forms. */
export type HostAccess =
  /** An SSH destination: `root@pve1`, `pve1`, or an alias from the user's ~/.ssh/config. */
  | {
      kind: 'ssh';
      destination: string;
      /** ssh -F file (`sshConfig:`). */
      configFile?: string;
      /** `sshPersist:` seconds the connection stays open after a command, or false to close it at the end. @default 60 (absent) */
      persist?: number | false;
    }
  /** pve-k3s runs on the Proxmox host itself. */
  | { kind: 'local' }
  /**
   * A host reached through a shell provider registered under this name (shell/provider.ts); its
   * settings are the inventory's `providers[provider]`. The file writes the embedded lab's hosts
   * `{ lab: true }` (provider `lab`).
   */
  | { kind: 'provider'; provider: string };

export interface HostSpec {
  /** The Proxmox node name (as `pvesh`/the web UI shows it). */
  name: string;
  access: HostAccess;
}

export interface NodeSpec {
  /** The Kubernetes node name (usually the container's hostname). */
  name: string;
  vmid: number;
  /** Name of the Proxmox host (HostSpec.name) that holds the container. */
  host: string;
  role: Role;
  /** Container settings for this node over the inventory's `container:` (install creates it with them). @default undefined */
  container?: Partial<ContainerSettings>;
  /** `upgrade: false`: upgrades leave this node at its version (a `--node` naming it overrides). @default true (absent) */
  upgrade?: false;
}

/**
 * How `pve-k3s install` creates a missing container (`pct create`, privileged) and which
 * settings it keeps. Defaults in ./defaults.ts (DEFAULT_CONTAINER).
 */
export interface ContainerSettings {
  /** The OS template volume, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. Needed only to create. @default undefined */
  template: string | undefined;
  /** Storage of the root disk. @default "local-lvm" */
  storage: string;
  /** Root disk size, GiB. @default 20 */
  diskSizeGb: number;
  /** @default 2 */ cores: number;
  /** Memory, MiB. @default 2048 */ memoryMb: number;
  /** The `net0` value. @default "name=eth0,bridge=vmbr0,ip=dhcp" */
  network: string;
  /** Proxmox tags; the node's role is added. @default ["k3s"] */
  tags: string[];
}

/** What the k3s install script gets beyond the role: extra args and /etc/rancher/k3s/config.yaml. */
export interface InstallSettings {
  /** Extra args of every server (after `server`). @default [] */
  serverArgs: string[];
  /** Extra args of every agent (after `agent`). @default [] */
  agentArgs: string[];
  /** The content of /etc/rancher/k3s/config.yaml on every node (text, or a mapping rendered as YAML). @default undefined */
  config: string | Record<string, unknown> | undefined;
}

export interface DrainPolicy {
  /** @default true */ ignoreDaemonsets: boolean;
  /** @default true */ deleteEmptydirData: boolean;
  /** Delete pods instead of evicting them (bypasses PodDisruptionBudgets). @default true */
  disableEviction: boolean;
  /** @default false */ force: boolean;
  /** kubectl drain --timeout, in seconds. @default 300 */ timeoutSeconds: number;
  /** kubectl drain --grace-period, seconds; undefined = the pods' own. @default undefined */
  gracePeriodSeconds: number | undefined;
  /** kubectl drain --skip-wait-for-delete-timeout, seconds; undefined = not passed. @default undefined */
  skipWaitForDeleteTimeoutSeconds: number | undefined;
  /** When a PDB-respecting drain (disableEviction false) times out: `fail`, or retry it once
   *  with --disable-eviction (deletes pods, bypassing PDBs). @default "fail" */
  onTimeout: 'fail' | 'disable-eviction';
}

export interface K3sSettings {
  /** Channel to resolve the target from. @default "stable" */
  channel: string;
  /** A pinned target version; overrides `channel`. @default undefined */
  version: string | undefined;
  /**
   * The channels collection: a URL, or a shell provider that serves one (the file's
   * `channelUrl: lab` is `{ provider: 'lab' }`). @default "https://update.k3s.io/v1-release/channels"
   */
  channelUrl: string | { provider: string };
  /** The install script URL. @default "https://get.k3s.io" */
  installScriptUrl: string;
}

export interface UpgradePolicy {
  /** @default "auto" */ order: UpgradeOrder;
  /** Allow a plan that makes a kubelet newer than its apiserver. @default false */
  allowSkew: boolean;
  /** How long to wait for a node to be Ready at the new version, seconds. @default 600 */
  readyTimeoutSeconds: number;
  /** Drain servers before upgrading them: auto = when another node can take their pods
   *  (several servers, or a minor upgrade with workers). @default "auto" */
  drainServers: 'auto' | 'always' | 'never';
  /** `pct snapshot` each container before its upgrade (`pre-k3s-<version>`); a worker that fails
   *  its health gate is rolled back to it. @default false */
  snapshot: boolean;
  /** How many `pre-k3s-*` snapshots to keep per container; older ones are deleted. @default 2 */
  snapshotRetention: number;
  /** Upgrade up to this many workers at once; never more than the cluster can spare (one
   *  schedulable worker always stays up). Servers always go one at a time. @default 1 */
  parallel: number;
  /** The node upgraded first, alone, then confirmed on the terminal or soaked (`canarySoak`). @default none */
  canary?: string | undefined;
  /** How long the canary must stay healthy before the rest go, seconds; none = ask on the terminal. @default none */
  canarySoakSeconds?: number | undefined;
  /** How long each node must stay healthy before the next one starts, seconds. @default none */
  soakSeconds?: number | undefined;
  /** The weekly maintenance window; a run outside it refuses, and stops between nodes when it closes. @default none (any time) */
  window?: UpgradeWindow | undefined;
  /** Webhooks told of the run's start, each node and its end (`[generic|ntfy|slack|discord+]https://...`). @default [] */
  notify?: string[] | undefined;
  /** Prometheus base URL for the alert gate (GET /api/v1/alerts). @default none */
  prometheusUrl?: string | undefined;
  /** As kured's --alert-filter-regexp: active alerts whose name matches are ignored (none ignored when unset). @default none */
  alertFilterRegexp?: string | undefined;
  /** As kured's --alert-firing-only: only firing alerts block (pending ones do not). @default false */
  alertFiringOnly?: boolean | undefined;
  /** As kured's --alert-filter-match-only: only alerts matching alertFilterRegexp block. @default false */
  alertFilterMatchOnly?: boolean | undefined;
  /** As kured's --blocking-pod-selector (each an OR): a node does not start while pods matching one run on it. @default none */
  blockingPodSelector?: string[] | undefined;
  /** How long a gate (alerts, pods) may hold the next node back before the run stops, seconds. @default 3600 */
  gateTimeoutSeconds?: number | undefined;
}

/** A shell provider's section of the inventory (the file's top-level `lab: { dir }` for provider `lab`), paths resolved. */
export type ProviderSettings = Readonly<Record<string, unknown>>;

export interface Inventory {
  /** The file it was read from (absolute), for messages. */
  file: string;
  /** Cluster name: used for state directories, kube contexts, messages. */
  cluster: string;
  hosts: HostSpec[];
  nodes: NodeSpec[];
  /** The node whose kubectl is used (a server). @default the first server */
  controller: string;
  k3s: K3sSettings;
  drain: DrainPolicy;
  upgrade: UpgradePolicy;
  /** The settings of the shell providers the hosts or the channel source name, by provider name. */
  providers: Readonly<Record<string, ProviderSettings>>;
  /** Container defaults for `install` (`container:`); absent = DEFAULT_CONTAINER. */
  container?: ContainerSettings;
  /** Install settings (`install:`); absent = DEFAULT_INSTALL. */
  install?: InstallSettings;
}
