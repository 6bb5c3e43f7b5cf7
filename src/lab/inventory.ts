/** The inventory YAML for a lab (the format the inventory loader reads for `lab: true` hosts). */
import type { LabState } from './types.js';

export function renderInventoryFor(dir: string, s: LabState): string {
  const nodes: Array<{ vmid: number; line: string }> = [];
  for (const h of s.hosts) {
    for (const ct of h.containers) {
      const svc = ct.k3s.services;
      if (!svc.k3s && !svc['k3s-agent']) continue;
      const role = svc.k3s?.cluster === s.cluster && ct.k3s.dataCluster === s.cluster ? 'server' : 'agent';
      nodes.push({ vmid: ct.vmid, line: `  ${ct.hostname}: { vmid: ${ct.vmid}, host: ${h.name}, role: ${role} }` });
    }
  }
  const sorted = nodes.sort((a, b) => a.vmid - b.vmid).map((n) => n.line);
  return labInventoryText(dir, s, { comment: 'pve-k3s inventory for the embedded lab (pve-k3s lab init)', nodeLines: sorted, extra: [] });
}

/** The text both lab inventories share (hosts, k3s settings, lab dir) around their own node lines. */
export function labInventoryText(dir: string, s: LabState, o: { comment: string; nodeLines: string[]; extra: string[] }): string {
  return [
    `# ${o.comment}`,
    `cluster: ${s.cluster}`,
    'hosts:',
    ...s.hosts.map((h) => `  ${h.name}: { lab: true }`),
    'nodes:',
    ...o.nodeLines,
    ...o.extra,
    'k3s:',
    '  channel: stable',
    "  channelUrl: lab      # the lab's own channel server, started on 127.0.0.1 by each command",
    `  installScriptUrl: ${s.installScriptUrl}`,
    'lab:',
    `  dir: ${dir}`,
    '',
  ].join('\n');
}
