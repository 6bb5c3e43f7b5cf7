/**
 * A lab host's virtual files, computed from the state when read: `/etc/pve/lxc/<vmid>.conf` as
 * pmxcfs shows it (current config, then one section per snapshot; writing it changes the
 * container), `/etc/pve/storage.cfg`, and `/proc/modules` and `/sys/module/<name>` (without the
 * modules its conditions say are not loaded; each may be made unreadable).
 */
import type { ContainerState, FileMap, HostState, LabState } from './types.js';
import { policyVirtualFiles } from './policy-files.js';

export const HOST_MODULES = ['overlay', 'br_netfilter', 'nf_conntrack', 'ip_tables', 'vxlan'];

const STORAGE_CFG = `dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images

zfspool: local-zfs
\tpool rpool/data
\tsparse
\tcontent images,rootdir
`;

/** `/etc/pve/lxc/<vmid>.conf` as pmxcfs shows it: current config, then one section per snapshot. */
export function renderConf(ct: ContainerState): string {
  const lines = ct.config.map(([k, v]) => `${k}: ${v}`);
  for (const snap of ct.snapshots) {
    lines.push('', `[${snap.name}]`, ...snap.config.map(([k, v]) => `${k}: ${v}`));
    if (snap.parent !== undefined) lines.push(`parent: ${snap.parent}`);
    lines.push(`snaptime: ${snap.snaptime}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads a written conf back into the container: the current section and each snapshot's. */
function absorbConf(ct: ContainerState, text: string): void {
  let section: Array<[string, string]> = [];
  const sections = new Map<string, Array<[string, string]>>();
  let name = '';
  sections.set(name, section);
  for (const line of text.split('\n')) {
    const h = /^\[([^\]]+)\]\s*$/.exec(line);
    if (h) {
      name = h[1] ?? '';
      section = [];
      sections.set(name, section);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    section.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  ct.config = sections.get('') ?? [];
  for (const snap of ct.snapshots) {
    const c = sections.get(snap.name);
    if (c) snap.config = c.filter(([k]) => k !== 'snaptime' && k !== 'parent');
  }
}

/** The host's virtual files (computed from the state when read). */
export function hostVirtualFiles(s: LabState, h: HostState): FileMap {
  const out: FileMap = {
    '/etc/pve': { content: '', mode: 0o755, dir: true },
    '/etc/pve/lxc': { content: '', mode: 0o755, dir: true },
    '/etc/pve/storage.cfg': { content: STORAGE_CFG, mode: 0o640 },
    '/proc': { content: '', mode: 0o555, dir: true },
  };
  const missing = s.maintenance?.missingModules?.[h.name] ?? [];
  const unreadable = s.maintenance?.unreadableModules?.[h.name] ?? [];
  const loaded = HOST_MODULES.filter((m) => !missing.includes(m));
  if (!unreadable.includes('proc'))
    out['/proc/modules'] = { content: loaded.map((m) => `${m} 151552 0 - Live 0x0000000000000000\n`).join(''), mode: 0o444 };
  if (!unreadable.includes('sys')) {
    out['/sys'] = { content: '', mode: 0o555, dir: true };
    out['/sys/module'] = { content: '', mode: 0o755, dir: true };
    for (const m of loaded) out[`/sys/module/${m}`] = { content: '', mode: 0o755, dir: true };
  }
  for (const ct of h.containers) out[`/etc/pve/lxc/${ct.vmid}.conf`] = { content: renderConf(ct), mode: 0o640 };
  return { ...out, ...policyVirtualFiles(s, h) };
}

/** Writes back virtual files a host command changed: a conf goes into its container's config. */
export function absorbVirtual(h: HostState, changed: Record<string, string>): void {
  for (const [k, content] of Object.entries(changed)) {
    const conf = /^\/etc\/pve\/lxc\/(\d+)\.conf$/.exec(k);
    const ct = conf ? h.containers.find((c) => c.vmid === Number(conf[1])) : undefined;
    if (ct) absorbConf(ct, content);
  }
}
