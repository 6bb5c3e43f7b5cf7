/**
 * A connection to a cluster: the shells for each Proxmox host of an inventory (OpenSSH, local, or the
 * embedded lab), and the channel server URL (the lab's own server on 127.0.0.1 when the
 * inventory says `channelUrl: lab`). Heavy modules are imported only when needed.
 */
import type { Inventory } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
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

/**
 * Opens the shells for every Proxmox host of the inventory (OpenSSH, local, or the embedded
 * lab) and, for a lab, its channel server. Nothing connects before the first command. Always
 * `close()` it: that ends SSH masters and servers.
 */
export interface ConnectOptions {
  /** False (`--no-persist`): close SSH connections when the command ends, whatever the inventory says. @default true */
  persist?: boolean;
}

export async function connectCluster(inventory: Inventory, opts: ConnectOptions = {}): Promise<ClusterConnection> {
  const shells = new Map<string, Shell>();
  const closers: (() => Promise<void>)[] = [];
  let channelUrl = inventory.k3s.channelUrl;
  const usesLab = inventory.hosts.some((h) => h.access.kind === 'lab') || channelUrl === 'lab';
  let lab: import('../lab/index.js').Lab | undefined;
  if (usesLab) {
    if (!inventory.lab)
      throw new InventoryError('the inventory uses the lab but has no `lab:` section', {
        file: inventory.file,
        field: 'lab',
        hint: 'run `pve-k3s lab init` to create a lab and its inventory',
      });
    const { openLab } = await import('../lab/index.js');
    lab = await openLab(inventory.lab.dir);
  }
  for (const h of inventory.hosts) {
    switch (h.access.kind) {
      case 'lab':
        shells.set(h.name, lab!.shell(h.name));
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
  if (channelUrl === 'lab') {
    const server = await lab!.startChannelServer();
    channelUrl = server.url;
    closers.push(() => server.close());
  }
  let closed = false;
  return {
    inventory,
    shells,
    channelUrl,
    clock: lab?.clock ?? systemClock,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}
