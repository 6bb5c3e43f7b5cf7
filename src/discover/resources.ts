/**
 * Container listings in the shapes Proxmox gives them: `/cluster/resources` (pvesh or the REST
 * API, the whole Proxmox cluster, with tags) and `pct list` (one node, no tags).
 */
import { parsePctList } from '../proxmox/pct.js';
import type { Address, FoundContainer } from './types.js';
import { ResponseError } from '../domain/errors.js';
import { isRecord } from '../domain/text.js';

/** The argv that lists every guest of the Proxmox cluster as JSON. */
export const CLUSTER_RESOURCES_ARGV = ['pvesh', 'get', '/cluster/resources', '--type', 'vm', '--output-format', 'json'] as const;

/** Proxmox tags are separated by `;` (older releases also wrote `,` or spaces). */
export function parseTags(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(/[;, ]+/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * The LXC containers in a `/cluster/resources` answer: either the bare array (pvesh) or the
 * API's `{ "data": [...] }`. Entries of other types (qemu, storage) are left out. Throws a
 * ResponseError naming what is wrong when the shape is not the expected one.
 */
export function parseClusterResources(json: unknown): FoundContainer[] {
  const list = Array.isArray(json) ? json : isRecord(json) && Array.isArray(json['data']) ? json['data'] : undefined;
  if (list === undefined) throw new ResponseError('expected a JSON array of resources (or {"data": [...]})');
  const out: FoundContainer[] = [];
  for (const [i, e] of list.entries()) {
    if (!isRecord(e)) throw new ResponseError(`resource ${i} is not an object`);
    if (e['type'] !== 'lxc') continue;
    if (e['template'] === 1) continue;
    const vmid = typeof e['vmid'] === 'number' ? e['vmid'] : Number(e['vmid']);
    const node = e['node'];
    if (!Number.isInteger(vmid) || typeof node !== 'string')
      throw new ResponseError(`resource ${i} (${String(e['id'])}) has no vmid or node`);
    out.push({
      vmid,
      name: typeof e['name'] === 'string' ? e['name'] : `CT${vmid}`,
      node,
      status: typeof e['status'] === 'string' ? e['status'] : 'unknown',
      tags: parseTags(typeof e['tags'] === 'string' ? e['tags'] : undefined),
      lock: typeof e['lock'] === 'string' && e['lock'] !== '' ? e['lock'] : undefined,
    });
  }
  return out.sort((a, b) => a.vmid - b.vmid);
}

/** `pct list` on one node: no tags (they come from `pct config` later). */
export function containersFromPctList(text: string, node: string): FoundContainer[] {
  return parsePctList(text).map((e) => ({ vmid: e.vmid, name: e.name, node, status: e.status, tags: undefined, lock: e.lock }));
}

/**
 * The static addresses of a container's `netN` lines (`pct config`: `net0: name=eth0,bridge=vmbr0,
 * gw=10.0.20.1,hwaddr=...,ip=10.0.20.20/24,type=veth`), in interface order: `ip=` unless it is
 * `dhcp`/`manual`, `ip6=` unless it is `auto`/`dhcp`/`manual`; the prefix length dropped.
 */
export function addressesOf(config: ReadonlyMap<string, string>): Address[] {
  const out: Address[] = [];
  const nets = [...config.keys()].filter((k) => /^net\d+$/.test(k)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  for (const key of nets) {
    for (const part of (config.get(key) ?? '').split(',')) {
      const m = /^(ip6?)=([^/]+)(?:\/\d+)?$/.exec(part.trim());
      if (!m || ['dhcp', 'manual', 'auto'].includes(m[2]!)) continue;
      out.push({ address: m[1] === 'ip6' ? m[2]!.toLowerCase() : m[2]!, from: key });
    }
  }
  return out;
}
