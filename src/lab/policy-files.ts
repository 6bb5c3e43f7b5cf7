/**
 * The host files the upgrade policy reads, computed from `state.policy`: the host's
 * nf_conntrack_max, /etc/pve/datacenter.cfg (its `crs:` line), and /etc/pve/ha/resources.cfg
 * when HA resources exist (pmxcfs shows the same file on every host).
 */
import { hostConntrackMax, readPolicyState } from './policy-state.js';
import type { FileMap, HostState, LabState } from './types.js';

export function policyVirtualFiles(s: LabState, h: HostState): FileMap {
  const p = readPolicyState(s);
  const out: FileMap = {
    '/proc/sys': { content: '', mode: 0o555, dir: true },
    '/proc/sys/net': { content: '', mode: 0o555, dir: true },
    '/proc/sys/net/netfilter': { content: '', mode: 0o555, dir: true },
    '/proc/sys/net/netfilter/nf_conntrack_max': { content: `${hostConntrackMax(s, h.name)}\n`, mode: 0o644 },
    '/etc/pve/datacenter.cfg': { content: `keyboard: en-us\n${p.crs === undefined ? '' : `crs: ${p.crs}\n`}`, mode: 0o640 },
  };
  const ha = Object.entries(p.ha ?? {});
  if (ha.length > 0) {
    out['/etc/pve/ha'] = { content: '', mode: 0o755, dir: true };
    out['/etc/pve/ha/resources.cfg'] = {
      content: ha.map(([sid, state]) => `${sid.replace(':', ': ')}\n\tmax_relocate 1\n\tmax_restart 1\n\tstate ${state}\n`).join('\n'),
      mode: 0o640,
    };
  }
  return out;
}
