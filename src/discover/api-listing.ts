/**
 * The containers of a Proxmox cluster through the REST API: cluster resources (tags included),
 * then, for the containers discovery keeps, their current status and config (the config's
 * `tags` and `hostname` are the authoritative ones). At most 8 requests at a time.
 */
import { parseClusterResources, parseTags } from './resources.js';
import type { FoundContainer } from './types.js';
import type { PveApi } from '../proxmox/api/client.js';

export async function listContainersViaApi(api: PveApi, keep: (c: FoundContainer) => boolean): Promise<FoundContainer[]> {
  const all = parseClusterResources(await api.clusterResources());
  const kept = all.filter(keep);
  await eachLimited(kept, 8, async (c) => {
    const [status, config] = await Promise.all([api.containerStatus(c.node, c.vmid), api.containerConfig(c.node, c.vmid)]);
    c.status = typeof status.status === 'string' ? status.status : c.status;
    c.lock = typeof status.lock === 'string' && status.lock !== '' ? status.lock : undefined;
    if (typeof config['tags'] === 'string') c.tags = parseTags(config['tags']);
    if (typeof config['hostname'] === 'string' && config['hostname'] !== '') c.name = config['hostname'];
  });
  return all;
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
