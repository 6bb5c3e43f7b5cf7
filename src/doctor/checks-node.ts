/** Per-node checks that need more than the conf or the inside: the ZFS snapshotter and the node's cordon. */
import type { NodeFacts } from '../domain/facts.js';
import type { NodeSpec } from '../inventory/types.js';
import { get } from '../proxmox/lxc-conf.js';
import { CORDON_ANNOTATION, type UpgradeState } from '../status/upgrade-state.js';
import { ok, type CheckResult, type NodeView } from './types.js';

export function zfsCheck(v: NodeView): CheckResult {
  const { node: n, conf, host: hp, inside: np } = v;
  const rootfs = conf ? (get(conf.current, 'rootfs') ?? '') : '';
  const storage = rootfs.split(':')[0] ?? '';
  const type = hp?.storage.get(storage);
  if (!conf || !type)
    return {
      check: 'zfs-overlay',
      scope: n.name,
      status: conf ? 'ok' : 'skip',
      message: conf ? `root on ${storage || 'unknown storage'}` : 'config not read',
    };
  if (type !== 'zfspool') return ok('zfs-overlay', n.name, `root on ${storage} (${type})`);
  if (np && /native|fuse-overlayfs|zfs/.test(np.snapshotter))
    return ok('zfs-overlay', n.name, `root on ZFS (${storage}) with a snapshotter that works there`);
  return {
    check: 'zfs-overlay',
    scope: n.name,
    status: 'warn',
    message: `root on ZFS (${storage}) with containerd's default overlayfs snapshotter`,
    cause: 'overlayfs on a ZFS dataset fails before OpenZFS 2.2 (pods stuck in ContainerCreating, "failed to mount overlay")',
    fix: 'use --snapshotter=native (or fuse-overlayfs) in the k3s options, or put /var/lib/rancher on an ext4 volume (a zvol or a mount point), or run OpenZFS 2.2+',
  };
}

export function cordonCheck(n: NodeSpec, f: NodeFacts | undefined, upgrade: UpgradeState): CheckResult {
  const k = f?.kube;
  if (!k || k.schedulable) return ok('cordoned', n.name, k ? 'schedulable' : 'not registered (or kubectl failed)');
  if (k.cordonedByUs !== undefined) {
    return {
      check: 'cordoned',
      scope: n.name,
      status: 'warn',
      message: `cordoned by pve-k3s (${CORDON_ANNOTATION}=${k.cordonedByUs})${upgrade.inProgress ? ' during the upgrade in progress' : ''}`,
      cause: 'an upgrade stopped before it uncordoned this node',
      fix: upgrade.inProgress
        ? 'let the upgrade finish, or run pve-k3s upgrade to resume it'
        : `pve-k3s upgrade (resumes), or kubectl uncordon ${n.name}`,
      ...(upgrade.inProgress ? {} : { autoFix: { kind: 'uncordon' as const, node: n.name } }),
    };
  }
  return {
    check: 'cordoned',
    scope: n.name,
    status: 'warn',
    message: 'cordoned (not by pve-k3s)',
    cause: 'someone ran kubectl cordon or drain on it',
    fix: `kubectl uncordon ${n.name} when it is meant to take pods again`,
  };
}
