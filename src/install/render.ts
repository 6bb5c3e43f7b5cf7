/** The install plan for people (pure). */
import type { InstallPlan, NodeInstallPlan } from './plan.js';

export function renderInstallPlan(p: InstallPlan, airgapDir?: string): string {
  const lines = [
    `Install plan for cluster ${p.cluster}: k3s ${p.version} (${p.versionSource})${airgapDir ? `, air gap from ${airgapDir}` : ''}`,
  ];
  if (p.hostsChecked.length > 0)
    lines.push(`  Proxmox host(s) ${p.hostsChecked.join(', ')}: kernel modules overlay and br_netfilter loaded`);
  for (const w of p.warnings) lines.push(`  warning: ${w}`);
  for (const n of p.nodes) {
    lines.push(`  ${n.node.name} (${n.node.role}, CT ${n.node.vmid} on ${n.node.host})`);
    lines.push(`    container: ${containerLine(n)}`);
    const inside = insideLine(n);
    if (inside) lines.push(`    inside:    ${inside}`);
    lines.push(`    k3s:       ${k3sLine(p, n)}`);
    if (n.configDiffers)
      lines.push(
        `    warning:   /etc/rancher/k3s/config.yaml differs from the inventory; install leaves an installed node's configuration alone`,
      );
  }
  return `${lines.join('\n')}\n`;
}

function containerLine(n: NodeInstallPlan): string {
  if (n.create) return `${n.changes.join('; ')}; start`;
  const parts = [...n.changes];
  if (n.restart) parts.push('restart the container');
  return parts.length > 0 ? parts.join('; ') : 'configured for k3s (no change)';
}

function insideLine(n: NodeInstallPlan): string | undefined {
  const parts: string[] = [];
  if (n.rsharedUnit) parts.push('/ rshared at every boot (pve-k3s-rshared.service)');
  if (n.installCurl) parts.push('install curl');
  if (n.writeConfig) parts.push('write /etc/rancher/k3s/config.yaml');
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function k3sLine(p: InstallPlan, n: NodeInstallPlan): string {
  if (!n.installK3s) return `installed (${n.installedVersion ?? 'version unknown'}): no change`;
  if (n.first) return `install ${p.version}, first server${p.clusterInit ? ' (--cluster-init: embedded etcd for several servers)' : ''}`;
  return n.node.role === 'server'
    ? `install ${p.version}, join ${p.firstServer} as a server`
    : `install ${p.version}, join ${p.firstServer} as an agent`;
}
