/**
 * A connection to a cluster: the shells for each Proxmox host of an inventory (OpenSSH, local, or a
 * registered shell provider such as the embedded lab), and the channel server URL (a provider's
 * own server when the inventory's channel source names one). Heavy modules are imported only
 * when needed; the core never imports a provider (shell/provider.ts).
 */
import type { Inventory } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { shellProvider, type ProviderSession } from '../shell/provider.js';
import { InventoryError } from '../domain/errors.js';
import { systemClock, type Clock } from '../domain/clock.js';

export interface ClusterConnection {
  inventory: Inventory;
  shells: ReadonlyMap<string, Shell>;
  /** The channels collection URL to use. */
  channelUrl: string;
  /** The time of these hosts: the system clock, or the clock of the world that simulates them. */
  clock: Clock;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** False (`--no-persist`): close SSH connections when the command ends, whatever the inventory says. @default true */
  persist?: boolean;
}

/**
 * Opens the shells for every Proxmox host of the inventory (OpenSSH, local, or a shell provider)
 * and, for a provider's channel source, its channel server. Nothing connects before the first
 * command. Always `close()` it: that ends SSH masters and servers.
 */
export async function connectCluster(inventory: Inventory, opts: ConnectOptions = {}): Promise<ClusterConnection> {
  const shells = new Map<string, Shell>();
  const closers: (() => Promise<void>)[] = [];
  const source = inventory.k3s.channelUrl;
  const sessions = new Map<string, ProviderSession>();
  const session = async (name: string, where: string): Promise<ProviderSession> => {
    const open = sessions.get(name);
    if (open) return open;
    const provider = await shellProvider(name);
    if (!provider)
      throw new InventoryError(`${where}: no shell provider "${name}" is registered in this program`, {
        file: inventory.file,
        field: where,
        hint: `import the module that provides it before connecting (for the embedded lab: import 'pve-k3s/lab'), or reach the host with ssh: or local:`,
      });
    const s = await provider.open({ settings: inventory.providers[name], file: inventory.file });
    sessions.set(name, s);
    closers.push(() => s.close());
    return s;
  };
  for (const h of inventory.hosts) {
    switch (h.access.kind) {
      case 'provider':
        shells.set(h.name, (await session(h.access.provider, `hosts.${h.name}`)).shell(h.name));
        break;
      case 'local': {
        const { LocalShell } = await import('../shell/local-shell.js');
        shells.set(h.name, new LocalShell({ host: h.name }));
        break;
      }
      case 'ssh': {
        const { SshShell } = await import('../shell/ssh-shell.js');
        shells.set(
          h.name,
          new SshShell({
            host: h.name,
            destination: h.access.destination,
            ...(h.access.configFile ? { configFile: h.access.configFile } : {}),
            persist: opts.persist !== false && h.access.persist !== false,
            ...(typeof h.access.persist === 'number' ? { controlPersist: `${h.access.persist}s` } : {}),
          }),
        );
        break;
      }
    }
  }
  for (const s of shells.values()) closers.push(() => s.close());
  let channelUrl: string;
  if (typeof source === 'string') channelUrl = source;
  else {
    const s = await session(source.provider, 'k3s.channelUrl');
    if (!s.startChannelServer)
      throw new InventoryError(`k3s.channelUrl: the shell provider "${source.provider}" serves no channels`, {
        file: inventory.file,
        field: 'k3s.channelUrl',
        hint: 'set an http(s) channel URL',
      });
    const server = await s.startChannelServer();
    channelUrl = server.url;
    closers.push(() => server.close());
  }
  const clock = [...sessions.values()].find((s) => s.clock !== undefined)?.clock ?? systemClock;
  let closed = false;
  return {
    inventory,
    shells,
    channelUrl,
    clock,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}
