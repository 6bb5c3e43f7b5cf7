/** The inventory's container and install settings as `install` uses them (defaults merged). */
import { DEFAULT_CONTAINER, DEFAULT_INSTALL } from '../inventory/defaults.js';
import type { ContainerSettings, InstallSettings, Inventory, NodeSpec, Role } from '../inventory/types.js';

export function containerFor(inv: Inventory, node: NodeSpec): ContainerSettings {
  return { ...DEFAULT_CONTAINER, ...inv.container, ...node.container };
}

export function installSettings(inv: Inventory): InstallSettings {
  return inv.install ?? DEFAULT_INSTALL;
}

/** The Proxmox tags of a node's container: the configured ones plus its role. */
export function tagsFor(settings: ContainerSettings, role: Role): string {
  return [...new Set([...settings.tags, role])].join(';');
}

/**
 * The `pct create` argv of a node's container: privileged (API tokens cannot set the features
 * k3s needs, so pve-k3s creates it over the host shell), nesting on, no swap.
 */
export function pctCreateArgv(node: NodeSpec, s: ContainerSettings): string[] {
  if (s.template === undefined) throw new TypeError('pctCreateArgv needs a template');
  return [
    'pct',
    'create',
    String(node.vmid),
    s.template,
    '--hostname',
    node.name,
    '--cores',
    String(s.cores),
    '--memory',
    String(s.memoryMb),
    '--swap',
    '0',
    '--rootfs',
    `${s.storage}:${s.diskSizeGb}`,
    '--net0',
    s.network,
    '--unprivileged',
    '0',
    '--features',
    'nesting=1',
    '--onboot',
    '1',
    '--tags',
    tagsFor(s, node.role),
  ];
}

/** The static IPv4 address of a `net0` value (`ip=10.0.20.20/24`), or undefined (dhcp, none). */
export function staticIp(net0: string | undefined): string | undefined {
  return /(?:^|,)ip=(\d{1,3}(?:\.\d{1,3}){3})\//.exec(net0 ?? '')?.[1];
}

/** config.yaml text from the inventory (a mapping is rendered as YAML; the yaml module loads only then). */
export async function configYaml(inv: Inventory): Promise<string | undefined> {
  const c = installSettings(inv).config;
  if (c === undefined) return undefined;
  if (typeof c === 'string') return c.endsWith('\n') ? c : `${c}\n`;
  const { stringify } = await import('yaml');
  return stringify(c);
}
