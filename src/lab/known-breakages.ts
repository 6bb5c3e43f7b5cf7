/**
 * How the lab's nodes break the way real k3s-in-LXC nodes do, by version and environment (the
 * lab's own model of them, independent of pve-k3s's catalogue): kube-proxy from Kubernetes 1.36
 * cannot raise nf_conntrack_max from inside a container; runc with the CVE-2025-52881 fix
 * trips over AppArmor in a confined container on an lxc-pve before 6.0.5-2; on Proxmox VE 9
 * the cgroup v1 device lines do nothing. Each leaves the node NotReady with the message the
 * kubelet would post.
 */
import { compareVersions, tryParseVersion } from '../domain/version.js';
import { parseUnitExec, unitPath } from './k3s-files.js';
import { hostConntrackMax, hostPve } from './policy-state.js';
import { readFile } from './vfs.js';
import type { ContainerState, LabState, ServiceName } from './types.js';

const FIXED_RUNC_FIRST: Record<number, string> = { 31: 'v1.31.14+k3s1', 32: 'v1.32.10+k3s1', 33: 'v1.33.6+k3s1', 34: 'v1.34.2+k3s1' };

function debianAtLeast(v: string, min: string): boolean {
  const a = v.match(/\d+/g)?.map(Number) ?? [];
  const b = min.match(/\d+/g)?.map(Number) ?? [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** A k3s service of a container on a host, and the version it runs: what breakage() judges. */
export interface RunningService {
  host: string;
  ct: ContainerState;
  service: ServiceName;
  version: string;
}

/** The reason a node running `version` in this container is NotReady, or undefined. */
export function breakage(s: LabState, { host, ct, service, version }: RunningService): string | undefined {
  const v = tryParseVersion(version);
  if (!v) return undefined;
  const conf = new Map(ct.config);
  const pve = hostPve(s, host);
  if (Number(pve.manager.split('.')[0]) >= 9 && conf.get('lxc.cgroup2.devices.allow') !== 'a')
    return 'container runtime is down: failed to create containerd task: devices cgroup: open /dev/kmsg: operation not permitted (no cgroup v1 on this host; lxc.cgroup.* lines are ignored)';
  const first = FIXED_RUNC_FIRST[v.minor];
  const fixedRunc = v.minor >= 35 || (first !== undefined && compareVersions(v, tryParseVersion(first)!) >= 0);
  if (fixedRunc && conf.get('lxc.apparmor.profile') !== 'unconfined' && !debianAtLeast(pve.lxc, '6.0.5-2'))
    return 'container runtime network not ready: failed to create pod sandbox: runc create failed: unable to start container process: error during container init: open sysctl net.ipv4.ip_unprivileged_port_start file: reopen fd 8: permission denied';
  if (v.minor >= 36) {
    const unit = readFile(ct.fs, unitPath(service));
    const args = 'content' in unit ? parseUnitExec(unit.content) : [];
    const config = readFile(ct.fs, '/etc/rancher/k3s/config.yaml');
    const text = `${args.join(' ')}\n${'content' in config ? config.content : ''}`;
    const disabled = /disable-kube-proxy(:\s*true|\s|$)/m.test(text);
    const cores = Number(conf.get('cores') ?? 1);
    const wanted = Math.max(32768 * cores, 131072);
    const have = hostConntrackMax(s, host);
    if (!disabled && !text.includes('conntrack-max-per-core=0') && have < wanted)
      return `kube-proxy: failed to set sysctl net/netfilter/nf_conntrack_max to ${wanted}: open /proc/sys/net/netfilter/nf_conntrack_max: permission denied`;
  }
  return undefined;
}
