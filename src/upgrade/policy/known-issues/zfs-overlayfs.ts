/**
 * containerd's default overlayfs snapshotter fails on a ZFS dataset before OpenZFS 2.2 (pods
 * stuck in ContainerCreating, "failed to mount overlay: invalid argument"). A container whose
 * rootfs is a ZFS subvolume needs `snapshotter: native` (or fuse-overlayfs), an ext4 volume for
 * /var/lib/rancher, or a host on OpenZFS 2.2+. Not fixed by --fix: changing the snapshotter
 * of a running node loses its images and containers.
 */
import { comparePackageVersions } from '../../../proxmox/host-config.js';
import type { IssueFinding, KnownIssue } from './types.js';

const WORKS_ON_ZFS = /^(native|fuse-overlayfs|zfs|stargz)$/;

export const zfsOverlayfs: KnownIssue = {
  id: 'zfs-overlayfs',
  title: 'the overlayfs snapshotter fails on ZFS before OpenZFS 2.2',
  affects: 'every k3s version, with the rootfs on ZFS and OpenZFS older than 2.2',
  affectsVersion: () => true,
  links: ['https://github.com/openzfs/zfs/releases/tag/zfs-2.2.0'],
  detect(nodes) {
    const out: IssueFinding[] = [];
    for (const n of nodes) {
      if (n.rootfsStorageType !== 'zfspool' || !n.k3s) continue;
      if (n.k3s.snapshotter !== undefined && WORKS_ON_ZFS.test(n.k3s.snapshotter)) continue;
      const zfs = n.pve?.zfs;
      if (zfs !== undefined && comparePackageVersions(zfs, '2.2') >= 0) continue;
      out.push({
        scope: n.name,
        status: zfs === undefined ? 'warn' : 'fail',
        message: `CT ${n.vmid}'s rootfs is on ZFS (OpenZFS ${zfs ?? 'of unknown version'} on ${n.host}) with containerd's default overlayfs snapshotter`,
        fix: 'set "snapshotter: native" in /etc/rancher/k3s/config.yaml before the node is (re)installed, or put /var/lib/rancher on an ext4 volume (a mount point on LVM-thin or a zvol), or upgrade the host to OpenZFS 2.2+ (Proxmox VE 8.1 or later)',
      });
    }
    return out;
  },
};
