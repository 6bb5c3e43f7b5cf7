/**
 * A known way k3s breaks in Proxmox LXC, by version and environment: which versions it
 * affects, how to see it in the cluster or the containers' config, what to say, how to fix it
 * (and whether `--fix` may do it), where to read more. One entry per file in this folder.
 */
import type { K3sVersion } from '../../../domain/version.js';
import type { Role } from '../../../domain/roles.js';
import type { ConfLine } from '../../../proxmox/lxc-conf.js';
import type { PveVersions } from '../../../proxmox/host-config.js';

/** What an entry sees of one node. */
export interface IssueNode {
  name: string;
  role: Role;
  host: string;
  vmid: number;
  /** The version the node will run: the plan's target if the plan upgrades it, else its own. */
  version: K3sVersion | undefined;
  /** The current section of /etc/pve/lxc/<vmid>.conf; undefined when not read. */
  conf: readonly ConfLine[] | undefined;
  /** The `cores:` of the container (what the kernel shows it as CPUs). */
  cores: number | undefined;
  /** The storage type of the rootfs (`zfspool`, `lvmthin`...). */
  rootfsStorageType: string | undefined;
  /** The k3s options that matter here, from the unit's ExecStart and config.yaml; undefined when not read. */
  k3s:
    | {
        kubeProxyArgs: string[];
        disableKubeProxy: boolean;
        snapshotter: string | undefined;
      }
    | undefined;
  /** The Proxmox host's package versions; undefined when not read. */
  pve: PveVersions | undefined;
  /** The host's nf_conntrack_max; undefined when nf_conntrack is not loaded or not read. */
  hostConntrackMax: number | undefined;
}

/** A fix `--fix` may apply: each is shown before it runs. */
export type IssueFix =
  | { kind: 'kube-proxy-arg'; node: string; host: string; vmid: number; role: Role; arg: string; restart: boolean }
  | { kind: 'conf-line'; node: string; host: string; vmid: number; key: string; value: string; what: string }
  | { kind: 'conf-rename'; node: string; host: string; vmid: number; from: string[]; what: string };

export interface IssueFinding {
  scope: string;
  status: 'fail' | 'warn';
  message: string;
  fix: string;
  autoFix?: IssueFix;
}

export interface KnownIssue {
  id: string;
  title: string;
  /** The versions affected, for people (`Kubernetes 1.36 and later`). */
  affects: string;
  /** True when a node running `v` has the problem (environment permitting). */
  affectsVersion(v: K3sVersion): boolean;
  /** One finding per node (or host) that has the problem; nothing when none has. */
  detect(nodes: readonly IssueNode[]): IssueFinding[];
  links: string[];
}
