/** `pvesh get ... --output-format json` for the few API paths pve-k3s reads, across all lab hosts (one PVE cluster). */
import { fail, ok, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ContainerState, LabState } from './types.js';

export function runPvesh(ctx: ExecContext, args: string[]): ExecResult {
  const [verb, path, ...rest] = args;
  if (verb !== 'get' || path === undefined) return fail(255, `the lab's pvesh models only "pvesh get <path> --output-format json"\n`);
  const fi = rest.indexOf('--output-format');
  const format = fi >= 0 ? rest[fi + 1] : rest.find((a) => a.startsWith('--output-format='))?.slice(16);
  if (format !== 'json' && format !== 'json-pretty')
    return fail(255, `the lab's pvesh models only --output-format json (or json-pretty)\n`);
  const ti = rest.indexOf('--type');
  const type = ti >= 0 ? rest[ti + 1] : undefined;
  const s = ctx.store.read();
  const now = ctx.now();
  const out = (v: unknown) => ok(`${format === 'json' ? JSON.stringify(v) : JSON.stringify(v, null, 4)}\n`);
  const norm = path.replace(/\/+$/, '');
  if (norm === '/cluster/resources') {
    if (type !== undefined && type !== 'vm') return out([]);
    return out(s.hosts.flatMap((h) => h.containers.map((c) => resource(h.name, c, now))));
  }
  const m = /^\/nodes\/([^/]+)\/lxc(?:\/(\d+)\/(status\/current|config))?$/.exec(norm);
  if (m?.[1] !== undefined) {
    const host = s.hosts.find((h) => h.name === m[1]);
    if (!host) return fail(255, `hostname lookup '${m[1]}' failed - failed to get address info for: ${m[1]}: Name or service not known\n`);
    if (m[2] === undefined) return out(host.containers.map((c) => lxcEntry(c, now)));
    const ct = host.containers.find((c) => c.vmid === Number(m[2]));
    if (!ct) return fail(255, `Configuration file 'nodes/${host.name}/lxc/${m[2]}.conf' does not exist\n`);
    if (m[3] === 'config') return out({ ...Object.fromEntries(ct.config), digest: 'lab' });
    return out({ ...lxcEntry(ct, now), ha: { managed: 0 } });
  }
  return fail(255, `No '${verb}' handler defined for '${path}'\n`);
}

function running(c: ContainerState): boolean {
  return c.status === 'running';
}

function tags(c: ContainerState): string | undefined {
  return c.config.find(([k]) => k === 'tags')?.[1];
}

function resource(node: string, c: ContainerState, now: number): Record<string, unknown> {
  const up = running(c);
  const r: Record<string, unknown> = {
    maxmem: c.maxmem,
    type: 'lxc',
    cpu: up ? 0.0312 : 0,
    netin: up ? 1200334455 : 0,
    template: 0,
    diskread: up ? 1234567 : 0,
    maxcpu: c.maxcpu,
    disk: up ? Math.floor(c.maxdisk / 5) : 0,
    diskwrite: up ? 2234567 : 0,
    node,
    vmid: c.vmid,
    mem: up ? Math.floor(c.maxmem / 3) : 0,
    status: c.status,
    netout: up ? 998877665 : 0,
    uptime: up ? Math.max(0, Math.floor((now - c.startedAt) / 1000)) : 0,
    id: `lxc/${c.vmid}`,
    maxdisk: c.maxdisk,
    name: c.hostname,
  };
  const t = tags(c);
  if (t !== undefined) r.tags = t;
  if (c.lock !== '') r.lock = c.lock;
  return r;
}

function lxcEntry(c: ContainerState, now: number): Record<string, unknown> {
  const up = running(c);
  const r: Record<string, unknown> = {
    vmid: c.vmid,
    name: c.hostname,
    status: c.status,
    type: 'lxc',
    cpus: c.maxcpu,
    maxmem: c.maxmem,
    maxdisk: c.maxdisk,
    maxswap: 0,
    mem: up ? Math.floor(c.maxmem / 3) : 0,
    disk: up ? Math.floor(c.maxdisk / 5) : 0,
    cpu: up ? 0.0312 : 0,
    uptime: up ? Math.max(0, Math.floor((now - c.startedAt) / 1000)) : 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  };
  const t = tags(c);
  if (t !== undefined) r.tags = t;
  if (c.lock !== '') r.lock = c.lock;
  return r;
}

export type { LabState };
