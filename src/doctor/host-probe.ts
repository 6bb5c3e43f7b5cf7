/**
 * The doctor's one extra batched round trip per host: storage.cfg, /proc/modules, each
 * container's raw conf, and the node script in every running container.
 */
import type { ClusterFacts } from '../domain/facts.js';
import type { Inventory } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { buildBatch, parseBatch } from '../proxmox/batch.js';
import { parseConf } from '../proxmox/lxc-conf.js';
import { invariant } from '../domain/errors.js';
import { NODE_SCRIPT, parseNodeProbe } from './node-script.js';
import type { HostProbe } from './types.js';

/** storage.cfg: `<type>: <id>` headers. */
export function parseStorageCfg(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+):\s*(\S+)\s*$/gm)) out.set(m[2] ?? '', m[1] ?? '');
  return out;
}

export interface DoctorProbeInput {
  inventory: Inventory;
  /** A shell per Proxmox host. */
  shells: ReadonlyMap<string, Shell>;
  /** From gatherFacts: which containers run (only those get the node script). */
  facts: ClusterFacts;
  signal?: AbortSignal;
}

export async function probeForDoctor(input: DoctorProbeInput): Promise<HostProbe[]> {
  const { inventory: inv, shells, facts, signal } = input;
  const hosts = [...new Set(inv.nodes.map((n) => n.host))];
  return Promise.all(
    hosts.map(async (host) => {
      const nodes = inv.nodes.filter((n) => n.host === host);
      const running = nodes.filter((n) => facts.nodes.find((f) => f.name === n.name)?.container === 'running');
      const cmds = [
        { argv: ['cat', '/etc/pve/storage.cfg'] },
        { argv: ['cat', '/proc/modules'] },
        ...nodes.map((n) => ({ argv: ['cat', `/etc/pve/lxc/${n.vmid}.conf`] })),
        ...running.map((n) => ({ argv: ['pct', 'exec', String(n.vmid), '--', 'sh', '-c', NODE_SCRIPT] })),
      ];
      const batch = buildBatch(cmds, { parallel: 8 });
      const p: HostProbe = {
        host,
        error: undefined,
        storage: new Map(),
        modules: undefined,
        confs: new Map(),
        nodes: new Map(),
        t0: Date.now() / 1000,
        t1: 0,
      };
      try {
        const shell = shells.get(host);
        invariant(shell, `no shell for host ${host}`);
        const r = await shell.run(['sh', '-s'], { stdin: batch.script, timeoutMs: 120_000, ...(signal ? { signal } : {}) });
        p.t1 = Date.now() / 1000;
        const res = parseBatch(r, batch);
        const [storage, modules, ...rest] = res;
        if (storage?.code === 0) p.storage = parseStorageCfg(storage.stdout);
        if (modules?.code === 0)
          p.modules = new Set(
            modules.stdout
              .split('\n')
              .map((l) => l.split(' ')[0] ?? '')
              .filter(Boolean),
          );
        nodes.forEach((n, i) => {
          const c = rest[i];
          if (c?.code === 0) p.confs.set(n.vmid, parseConf(c.stdout));
        });
        running.forEach((n, i) => {
          const c = rest[nodes.length + i];
          if (c && c.code !== -1) p.nodes.set(n.name, parseNodeProbe(c.stdout));
        });
      } catch (e) {
        if (signal?.aborted) throw e;
        p.error = (e as Error).message;
        p.t1 = Date.now() / 1000;
      }
      return p;
    }),
  );
}
