/**
 * Moves a container to another lab host, as `pct migrate <vmid> <target> [--restart]` does on a
 * Proxmox cluster: a running container needs --restart (LXC has no live migration) and comes
 * back up on the target; the k3s node keeps its name, so the cluster sees the same node.
 */
import { LAB_HOOKS } from './hooks.js';
import { bootContainer, findContainer, shutdownContainer } from './k3s-model.js';
import type { Lab } from './lab.js';

export interface MigrateOptions {
  /** The host to move it to (`pct migrate`'s target node). */
  target: string;
  /** Stop, move and start a running container (`pct migrate --restart`). @default false */
  restart?: boolean;
}

/** Returns undefined when done, else pct's error text. */
export function migrateContainer(lab: Lab, vmid: number, opts: MigrateOptions): string | undefined {
  const { target } = opts;
  const now = lab.clock.now();
  return lab.update((s) => {
    const from = s.hosts.find((h) => h.containers.some((c) => c.vmid === vmid));
    const to = s.hosts.find((h) => h.name === target);
    if (!from) return `Configuration file 'nodes/*/lxc/${vmid}.conf' does not exist`;
    if (!to) return `no such cluster node '${target}'`;
    if (from === to) return `target is local node.`;
    const ct = from.containers.find((c) => c.vmid === vmid)!;
    if (ct.lock !== '') return `CT is locked (${ct.lock})`;
    const wasRunning = ct.status === 'running';
    if (wasRunning && !opts.restart) return `CT is running - use online migration or --restart`;
    if (wasRunning) shutdownContainer(ct);
    from.containers = from.containers.filter((c) => c !== ct);
    to.containers.push(ct);
    for (const cluster of Object.values(s.clusters)) {
      for (const node of Object.values(cluster.nodes)) if (node.vmid === vmid && node.host === from.name) node.host = to.name;
    }
    if (wasRunning) bootContainer(s, findContainer(s, to.name, vmid)!, { now, hooks: LAB_HOOKS });
    return undefined;
  });
}
