/** The catalogue of known k3s-in-LXC breakages, in the order they are checked and shown. */
import { cgroupV1Pve9 } from './cgroup-v1-pve9.js';
import { kubeProxyConntrack } from './kube-proxy-conntrack.js';
import { runcApparmor } from './runc-apparmor.js';
import type { KnownIssue } from './types.js';
import { zfsOverlayfs } from './zfs-overlayfs.js';

export type { IssueFinding, IssueFix, IssueNode, KnownIssue } from './types.js';

export const KNOWN_ISSUES: readonly KnownIssue[] = [kubeProxyConntrack, runcApparmor, cgroupV1Pve9, zfsOverlayfs];
