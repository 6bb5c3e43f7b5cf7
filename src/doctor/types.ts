/** What the doctor's checks produce, what they read (the host and node probes), and what `--fix` can apply. */
import type { NodeSpec } from '../inventory/types.js';
import type { ConfEdit, LxcConf } from '../proxmox/lxc-conf.js';
import type { IssueFix } from '../upgrade/policy/known-issues/index.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export type Fix =
  | { kind: 'conf'; host: string; vmid: number; node: string; edit: ConfEdit; what: string }
  | { kind: 'modules'; host: string; modules: string[] }
  | { kind: 'rshared'; host: string; vmid: number; node: string }
  | { kind: 'uncordon'; node: string }
  /** A known issue's fix (src/upgrade/policy/fixes.ts): config.yaml, or a conf line with the container's restart. */
  | { kind: 'issue'; fix: IssueFix };

export interface CheckResult {
  check: string;
  /** A node, a host (`host pve1`) or `cluster`. */
  scope: string;
  status: CheckStatus;
  message: string;
  cause?: string;
  fix?: string;
  /** Present when `--fix` can apply it safely. */
  autoFix?: Fix;
}

export const CHECKS = [
  'container',
  'lxc-config',
  'cgroup-v1',
  'snapshot-section',
  'privileged',
  'nesting',
  'swap',
  'kmsg',
  'rshared',
  'host-modules',
  'zfs-overlay',
  'k3s-path',
  'worker-role',
  'version-skew',
  'cordoned',
  'upgrade-journal',
  'disk',
  'clock',
] as const;

export interface NodeProbe {
  kmsg: boolean;
  propagation: string;
  k3s: boolean;
  kubectl: boolean;
  k3sUnit: boolean;
  k3sActive: string;
  snapshotter: string;
  diskPct: number | undefined;
  clock: number | undefined;
}

export interface HostProbe {
  host: string;
  error: string | undefined;
  storage: Map<string, string>;
  modules: Set<string> | undefined;
  confs: Map<number, LxcConf>;
  nodes: Map<string, NodeProbe>;
  /** Local clock around the round trip (epoch s), for clock skew. */
  t0: number;
  t1: number;
}

export const ok = (check: string, scope: string, message: string): CheckResult => ({ check, scope, status: 'ok', message });

/** What the per-node checks see of one node. */
export interface NodeView {
  node: NodeSpec;
  /** Its host's probe; undefined when the host is not in the probe. */
  host: HostProbe | undefined;
  /** The container's conf; undefined when it could not be read. */
  conf: LxcConf | undefined;
  /** What the node script saw inside; undefined when the container is not running or not probed. */
  inside: NodeProbe | undefined;
}
