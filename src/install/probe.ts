/**
 * What `install` needs to know before it plans: per Proxmox host, in one round trip, `pct list`,
 * `/proc/modules` (and `/sys/module/<name>`) and the raw conf of each node's container; then, in each running container,
 * one `pct exec` with the k3s units, version, /dev/kmsg, root propagation, config.yaml, curl.
 */
import { buildBatch, parseBatch } from '../proxmox/batch.js';
import { parsePctList, Pct } from '../proxmox/pct.js';
import { parseK3sVersionOutput } from '../domain/version.js';
import { ShellError } from '../domain/errors.js';
import { UNIT_DIR } from '../k3s/install-config.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { failureReason } from '../shell/reason.js';

export const REQUIRED_MODULES = ['overlay', 'br_netfilter'] as const;
export const RSHARED_UNIT = 'pve-k3s-rshared.service';
export const CONFIG_YAML = '/etc/rancher/k3s/config.yaml';

export interface InsideFacts {
  serverUnit: string | undefined;
  agentUnit: string | undefined;
  /** The installed k3s version (raw), if any. */
  version: string | undefined;
  serverActive: boolean;
  agentActive: boolean;
  kmsg: boolean;
  propagation: string;
  rsharedUnit: boolean;
  configYaml: string | undefined;
  curl: boolean;
}

export interface NodeFacts {
  node: NodeSpec;
  exists: boolean;
  /** Another inventory host lists this vmid (a migrated container, or a wrong `host:`). */
  foundOn: string | undefined;
  status: string | undefined;
  conf: string | undefined;
  inside: InsideFacts | undefined;
}

export interface HostFacts {
  name: string;
  /** Required modules neither /proc/modules nor /sys/module shows (empty when they cannot be read). */
  missingModules: string[];
  /** Set when neither /proc/modules nor /sys/module could be read: the modules are not known. */
  modulesUnknown: string | undefined;
}

/**
 * Which required modules a host lacks, from `cat /proc/modules` and `test -d /sys/module/<m>`
 * (a module built into the kernel is in /sys/module but not in /proc/modules). A module counts
 * as missing only when something could be read and shows it absent (pure; table-tested).
 */
export function modulesFrom(
  procModules: { code: number; stdout: string } | undefined,
  sysModule: { code: number } | undefined,
  perModule: ReadonlyArray<{ code: number } | undefined>,
): { missing: string[]; unknown: string | undefined } {
  const proc = procModules?.code === 0 ? new Set(procModules.stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) : undefined;
  const sys = sysModule?.code === 0;
  if (!proc && !sys) return { missing: [], unknown: 'neither /proc/modules nor /sys/module can be read' };
  const missing = REQUIRED_MODULES.filter((m, i) => !proc?.has(m) && !(sys && perModule[i]?.code === 0));
  return { missing, unknown: undefined };
}

export interface InstallFacts {
  hosts: HostFacts[];
  nodes: NodeFacts[];
}

function shellOf(shells: ReadonlyMap<string, Shell>, host: string): Shell {
  const s = shells.get(host);
  if (!s) throw new TypeError(`no shell for host ${host}`);
  return s;
}

/** Probes `nodes` (their hosts and containers) for an install. */
export async function probeInstall(
  inv: Inventory,
  shells: ReadonlyMap<string, Shell>,
  { nodes, signal }: { nodes: readonly NodeSpec[]; signal?: AbortSignal },
): Promise<InstallFacts> {
  const hostNames = inv.hosts.map((h) => h.name);
  const perHost = await Promise.all(
    hostNames.map(async (host) => {
      const mine = nodes.filter((n) => n.host === host);
      const batch = buildBatch([
        { argv: ['pct', 'list'] },
        { argv: ['cat', '/proc/modules'] },
        { argv: ['test', '-d', '/sys/module'] },
        ...REQUIRED_MODULES.map((m) => ({ argv: ['test', '-d', `/sys/module/${m}`] })),
        ...mine.map((n) => ({ argv: ['cat', `/etc/pve/lxc/${n.vmid}.conf`] })),
      ]);
      const r = await shellOf(shells, host).run(['sh', '-s'], { stdin: batch.script, timeoutMs: 120_000, ...(signal ? { signal } : {}) });
      const res = parseBatch(r, batch);
      const [list, modules, sysModule, ...rest] = res;
      const perModule = rest.slice(0, REQUIRED_MODULES.length);
      const confs = rest.slice(REQUIRED_MODULES.length);
      if (!list || list.code !== 0) {
        throw new ShellError(`cannot list the containers of ${host}: ${failureReason(list ?? r)}`, {
          host,
          exitStatus: r.code,
          hint: `check that \`pct list\` works on ${host}`,
          detail: r.stdout + r.stderr,
        });
      }
      const mods = modulesFrom(modules, sysModule, perModule);
      return {
        host,
        entries: parsePctList(list.stdout),
        missing: mods.missing,
        modulesUnknown: mods.unknown,
        confs: mine.map((n, i) => [n, confs[i]] as const),
      };
    }),
  );
  const out: NodeFacts[] = [];
  for (const h of perHost) {
    for (const [node, conf] of h.confs) {
      const entry = h.entries.find((e) => e.vmid === node.vmid);
      const foundOn = entry ? undefined : perHost.find((o) => o.host !== h.host && o.entries.some((e) => e.vmid === node.vmid))?.host;
      out.push({
        node,
        exists: entry !== undefined,
        foundOn,
        status: entry?.status,
        conf: entry && conf?.code === 0 ? conf.stdout : undefined,
        inside: undefined,
      });
    }
  }
  await Promise.all(
    out
      .filter((f) => f.status === 'running')
      .map(async (f) => {
        f.inside = await probeInside(new Pct(shellOf(shells, f.node.host)), f.node.vmid, signal);
      }),
  );
  const order = new Map(nodes.map((n, i) => [n.name, i]));
  out.sort((a, b) => (order.get(a.node.name) ?? 0) - (order.get(b.node.name) ?? 0));
  return { hosts: perHost.map((h) => ({ name: h.host, missingModules: h.missing, modulesUnknown: h.modulesUnknown })), nodes: out };
}

export async function probeInside(pct: Pct, vmid: number, signal?: AbortSignal): Promise<InsideFacts> {
  const batch = buildBatch([
    { argv: ['cat', `${UNIT_DIR}/k3s.service`] },
    { argv: ['cat', `${UNIT_DIR}/k3s-agent.service`] },
    { argv: ['/usr/local/bin/k3s', '--version'] },
    { argv: ['test', '-e', '/dev/kmsg'] },
    { argv: ['findmnt', '-no', 'PROPAGATION', '/'] },
    { argv: ['test', '-f', `${UNIT_DIR}/${RSHARED_UNIT}`] },
    { argv: ['cat', CONFIG_YAML] },
    { argv: ['sh', '-c', 'command -v curl'] },
    { argv: ['systemctl', 'is-active', 'k3s'] },
    { argv: ['systemctl', 'is-active', 'k3s-agent'] },
  ]);
  const r = await pct.execScript(vmid, batch.script, { timeoutMs: 60_000, ...(signal ? { signal } : {}) });
  const [su, au, ver, kmsg, prop, rs, cfg, curl, sa, aa] = parseBatch(r, batch);
  const text = (x: typeof su) => (x?.code === 0 ? x.stdout : undefined);
  return {
    serverUnit: text(su),
    agentUnit: text(au),
    version: ver?.code === 0 ? parseK3sVersionOutput(ver.stdout)?.raw : undefined,
    kmsg: kmsg?.code === 0,
    propagation: (prop?.stdout ?? '').trim(),
    rsharedUnit: rs?.code === 0,
    configYaml: text(cfg),
    curl: curl?.code === 0,
    serverActive: sa?.code === 0,
    agentActive: aa?.code === 0,
  };
}
