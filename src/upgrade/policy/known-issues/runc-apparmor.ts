/**
 * runc's fix for CVE-2025-52881 reopens /proc/sys files through a detached procfs mount, which
 * AppArmor takes for /sys and denies inside an AppArmor-confined LXC container: every pod fails
 * with `open sysctl net.ipv4.ip_unprivileged_port_start file: reopen fd 8: permission denied`
 * (opencontainers/runc#4968, #4972, containerd/containerd#12484). k3s ships that runc from its
 * November 2025 releases (runc 1.2.8 / 1.3.3) on. Proxmox fixed its LXC AppArmor profile in
 * lxc-pve 6.0.5-2; k3s's containers want `lxc.apparmor.profile: unconfined` anyway.
 */
import { compareVersions, parseVersion, type K3sVersion } from '../../../domain/version.js';
import { comparePackageVersions } from '../../../proxmox/host-config.js';
import type { IssueFinding, KnownIssue } from './types.js';

/** The first k3s release of each minor with the fixed runc (runc 1.2.8 on 1.31/1.32, 1.3.3 on 1.33/1.34); every later minor has it. */
export const FIRST_WITH_FIXED_RUNC: ReadonlyMap<number, K3sVersion> = new Map(
  ['v1.31.14+k3s1', 'v1.32.10+k3s1', 'v1.33.6+k3s1', 'v1.34.2+k3s1'].map((v) => [parseVersion(v).minor, parseVersion(v)] as const),
);
/** The lxc-pve whose AppArmor profile lets the new runc through. */
export const LXC_PVE_FIXED = '6.0.5-2';

export const runcApparmor: KnownIssue = {
  id: 'runc-apparmor',
  title: "runc's CVE-2025-52881 fix fails in AppArmor-confined LXC",
  affects: 'k3s v1.31.14+k3s1, v1.32.10+k3s1, v1.33.6+k3s1, v1.34.2+k3s1 and later, and 1.35 on',
  affectsVersion(v) {
    if (v.major > 1 || v.minor >= 35) return true;
    const first = FIRST_WITH_FIXED_RUNC.get(v.minor);
    return first !== undefined && compareVersions(v, first) >= 0;
  },
  links: [
    'https://github.com/opencontainers/runc/issues/4968',
    'https://github.com/opencontainers/runc/issues/4972',
    'https://github.com/containerd/containerd/issues/12484',
  ],
  detect(nodes) {
    const out: IssueFinding[] = [];
    for (const n of nodes) {
      if (!n.version || !this.affectsVersion(n.version) || !n.conf) continue;
      const profile = n.conf.find((l) => l.key === 'lxc.apparmor.profile')?.value;
      if (profile === 'unconfined') continue;
      const lxc = n.pve?.lxc;
      if (lxc !== undefined && comparePackageVersions(lxc, LXC_PVE_FIXED) >= 0) continue;
      out.push({
        scope: n.name,
        status: 'fail',
        message: `k3s ${n.version.raw} ships runc with the CVE-2025-52881 fix, and CT ${n.vmid} is AppArmor-confined (${profile === undefined ? 'no lxc.apparmor.profile line: the Proxmox default profile' : `lxc.apparmor.profile: ${profile}`}) on lxc-pve ${lxc ?? 'of unknown version'}: pods would fail with "ip_unprivileged_port_start ... permission denied"`,
        fix: `add "lxc.apparmor.profile: unconfined" to /etc/pve/lxc/${n.vmid}.conf above any [snapshot] section and restart the container (pct reboot ${n.vmid} on ${n.host}), or update lxc-pve to ${LXC_PVE_FIXED} or later on ${n.host}`,
        autoFix: {
          kind: 'conf-line',
          node: n.name,
          host: n.host,
          vmid: n.vmid,
          key: 'lxc.apparmor.profile',
          value: 'unconfined',
          what: 'set lxc.apparmor.profile: unconfined',
        },
      });
    }
    return out;
  },
};
