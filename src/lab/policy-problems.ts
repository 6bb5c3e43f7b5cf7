/** Problems the upgrade policy looks for, put into a lab as a user or a host would have them (tests, demos). */
import { UsageError } from '../domain/errors.js';
import { containerConditionsOf } from './conditions.js';
import { hostPve, policyStateOf, PVE_9 } from './policy-state.js';
import type { LabState } from './types.js';
import { setConf } from './ct-config.js';

export type LabPolicyProblem =
  | 'locked'
  | 'ha-resource'
  | 'ha-rebalance'
  | 'low-disk-for-download'
  | 'dir-storage'
  | 'suc-plan'
  | 'rancher'
  | 'apparmor-confined'
  | 'pve9'
  | 'zfs-old'
  | 'conntrack-high';

/** Puts one problem into the container named `node` (its host for host-wide ones). */
export function labPolicyProblem(s: LabState, node: string, what: LabPolicyProblem): void {
  const h = s.hosts.find((x) => x.containers.some((c) => c.hostname === node));
  const ct = h?.containers.find((c) => c.hostname === node);
  if (!h || !ct) throw new UsageError(`lab: no container named ${node}`);
  const p = policyStateOf(s);
  switch (what) {
    case 'locked':
      ct.lock = 'backup';
      break;
    case 'ha-resource':
      p.ha = { ...p.ha, [`ct:${ct.vmid}`]: 'started' };
      break;
    case 'ha-rebalance':
      p.ha = { ...p.ha, [`ct:${ct.vmid}`]: 'started' };
      p.crs = 'ha=static,ha-rebalance-on-start=1';
      break;
    case 'low-disk-for-download':
      // A full root file system: no room for the new binary beside the old one.
      containerConditionsOf(s, h.name, ct.vmid).diskUsedPct = 100;
      break;
    case 'dir-storage':
      setConf(ct, 'rootfs', `local:${ct.vmid}/vm-${ct.vmid}-disk-0.raw,size=40G`);
      ct.switches.snapshotsUnsupported = true;
      break;
    case 'suc-plan':
      p.sucPlans = [...(p.sucPlans ?? []), 'system-upgrade/k3s-server'];
      break;
    case 'rancher':
      p.rancher = true;
      break;
    case 'apparmor-confined':
      setConf(ct, 'lxc.apparmor.profile', undefined);
      break;
    case 'pve9':
      p.pve = { ...p.pve, [h.name]: PVE_9 };
      break;
    case 'zfs-old':
      setConf(ct, 'rootfs', `local-zfs:subvol-${ct.vmid}-disk-0,size=40G`);
      p.pve = { ...p.pve, [h.name]: { ...hostPve(s, h.name), zfs: '2.1.15-pve1' } };
      break;
    case 'conntrack-high':
      p.conntrackMax = { ...p.conntrackMax, [h.name]: 1_048_576 };
      break;
  }
}
