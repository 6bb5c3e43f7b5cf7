/**
 * Proxmox VE 9 removed cgroup v1 entirely: `lxc.cgroup.*` lines in a container's conf do
 * nothing there, so the device access k3s needs (`lxc.cgroup.devices.allow: a`) is silently
 * gone and the kubelet fails. Any k3s version; the environment decides. Fix: the
 * `lxc.cgroup2.*` keys, and a restart of the container.
 */
import { comparePackageVersions } from '../../../proxmox/host-config.js';
import type { IssueFinding, KnownIssue } from './types.js';

export const cgroupV1Pve9: KnownIssue = {
  id: 'cgroup-v1-pve9',
  title: 'cgroup v1 lxc.cgroup.* keys do nothing on Proxmox VE 9',
  affects: 'every k3s version, on Proxmox VE 9.0 and later',
  affectsVersion: () => true,
  links: ['https://pve.proxmox.com/wiki/Upgrade_from_8_to_9'],
  detect(nodes) {
    const out: IssueFinding[] = [];
    for (const n of nodes) {
      const manager = n.pve?.manager;
      if (!n.conf || manager === undefined || comparePackageVersions(manager, '9') < 0) continue;
      const v1 = [...new Set(n.conf.filter((l) => l.key.startsWith('lxc.cgroup.')).map((l) => l.key))];
      if (v1.length === 0) continue;
      out.push({
        scope: n.name,
        status: 'fail',
        message: `${n.host} runs Proxmox VE ${manager}, which has no cgroup v1: ${v1.join(', ')} in /etc/pve/lxc/${n.vmid}.conf ${v1.length === 1 ? 'does' : 'do'} nothing`,
        fix: `rename them to ${v1.map((k) => k.replace(/^lxc\.cgroup\./, 'lxc.cgroup2.')).join(', ')} and restart the container (pct reboot ${n.vmid} on ${n.host})`,
        autoFix: { kind: 'conf-rename', node: n.name, host: n.host, vmid: n.vmid, from: v1, what: 'rename lxc.cgroup.* to lxc.cgroup2.*' },
      });
    }
    return out;
  },
};
