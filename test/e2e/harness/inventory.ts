/** The lab's inventory with its hosts reached over the real-sh sshds instead of in-process. */
import { renderLabInventory, type Lab } from '../../../src/lab/index.js';
import type { RealShHosts } from './realsh.js';

export function realShInventory(lab: Lab, hosts: RealShHosts): string {
  const lines = renderLabInventory(lab).split('\n');
  const byHost = new Map(hosts.inventoryHosts().map((l) => [l.trim().split(':')[0] ?? '', l]));
  return lines.map((l) => byHost.get(/^ {2}(\S+): \{ lab: true \}$/.exec(l)?.[1] ?? '') ?? l).join('\n');
}
