/**
 * The lab's hosts and cluster as the upgrade policy sees them (`state.policy`): the Proxmox
 * packages of each host, HA resources and the cluster resource scheduler, the host's
 * nf_conntrack_max, and other upgraders in the cluster. Readers and defaults; no programs.
 */
import type { LabPolicyState, LabPve, LabState } from './types.js';

/** Proxmox VE 8.4 with the lxc-pve from before the AppArmor fix (6.0.5-2) and OpenZFS 2.2. */
export const PVE_8: LabPve = { manager: '8.4.1', kernel: '6.8.12-4-pve', lxc: '6.0.0-1', zfs: '2.2.7-pve2' };
/** Proxmox VE 9.0: no cgroup v1, lxc-pve with the AppArmor fix. */
export const PVE_9: LabPve = { manager: '9.0.10', kernel: '6.14.11-2-pve', lxc: '6.0.5-2', zfs: '2.3.4-pve1' };
export const DEFAULT_CONNTRACK_MAX = 65536;
/** The size `stat` reports for a lab k3s binary (the real one, amd64, is about this big). */
export const K3S_BINARY_BYTES = 71_303_168;

/** The record, created when absent (mutates `s`: call inside a store update). */
export function policyStateOf(s: LabState): LabPolicyState {
  s.policy ??= {};
  return s.policy;
}

/** The record as it is (read only). */
export function readPolicyState(s: LabState): LabPolicyState {
  return s.policy ?? {};
}

export function hostPve(s: LabState, host: string): LabPve {
  return readPolicyState(s).pve?.[host] ?? PVE_8;
}

export function hostConntrackMax(s: LabState, host: string): number {
  return readPolicyState(s).conntrackMax?.[host] ?? DEFAULT_CONNTRACK_MAX;
}
