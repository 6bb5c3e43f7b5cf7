/**
 * Breaking a lab on purpose (tests, demos): one known breakage put into a container or its
 * host, as a user or a bad script would have left it.
 */
import { UsageError } from '../domain/errors.js';
import { conditionsOf, containerConditionsOf } from './conditions.js';
import { LAB_HOOKS } from './hooks.js';
import { envPath, renderEnvFile, renderUnit, unitPath } from './k3s-files.js';
import { startService } from './k3s-model.js';
import type { LabState } from './types.js';
import { setConf } from './ct-config.js';

export type LabBreakage =
  | 'lxc-missing'
  | 'cgroup-v1'
  | 'below-snapshot'
  | 'no-kmsg'
  | 'not-rshared'
  | 'swap'
  | 'no-nesting'
  | 'unprivileged'
  | 'modules'
  | 'zfs-overlay'
  | 'no-kubectl'
  | 'worker-turned-server'
  | 'low-disk'
  | 'clock-skew'
  | 'sqlite3';

export const LAB_BREAKAGES: readonly LabBreakage[] = [
  'lxc-missing',
  'cgroup-v1',
  'below-snapshot',
  'no-kmsg',
  'not-rshared',
  'swap',
  'no-nesting',
  'unprivileged',
  'modules',
  'zfs-overlay',
  'no-kubectl',
  'worker-turned-server',
  'low-disk',
  'clock-skew',
];

/** One breakage to put into a lab: which, where, and when (the lab's time it happened; default now). */
export interface LabBreakOptions {
  /** The container's hostname (its host for `modules`). */
  node: string;
  what: LabBreakage;
  now?: number;
}

/**
 * Puts one known breakage into the container named `node` (its host for `modules`), as a user
 * or a bad script would have left it. `sqlite3` is not a breakage: it installs the sqlite3 CLI.
 */
export function labBreak(s: LabState, { node, what, now = Date.now() }: LabBreakOptions): void {
  const h = s.hosts.find((x) => x.containers.some((c) => c.hostname === node));
  const ct = h?.containers.find((c) => c.hostname === node);
  if (!h || !ct) throw new UsageError(`lab: no container named ${node}`);
  const x = containerConditionsOf(s, h.name, ct.vmid);
  switch (what) {
    case 'lxc-missing':
      setConf(ct, 'lxc.apparmor.profile', undefined);
      setConf(ct, 'lxc.cap.drop', undefined);
      break;
    case 'cgroup-v1':
      setConf(ct, 'lxc.cgroup2.devices.allow', undefined);
      ct.config.push(['lxc.cgroup.devices.allow', 'a']);
      break;
    case 'below-snapshot': {
      const lines = ct.config.filter(([k]) => k.startsWith('lxc.'));
      ct.config = ct.config.filter(([k]) => !k.startsWith('lxc.'));
      if (ct.snapshots.length === 0) {
        ct.snapshots.push({
          name: 'before-k3s',
          description: '',
          snaptime: Math.floor(now / 1000) - 86_400,
          parent: undefined,
          config: structuredClone(ct.config),
          fs: {},
          k3s: structuredClone(ct.k3s),
        });
        setConf(ct, 'parent', 'before-k3s');
      }
      const last = ct.snapshots[ct.snapshots.length - 1];
      if (last) last.config.push(...lines);
      break;
    }
    case 'no-kmsg':
      delete ct.fs['/dev/kmsg'];
      ct.config = ct.config.filter(([k, v]) => !(k === 'lxc.mount.entry' && v.includes('kmsg')));
      break;
    case 'not-rshared':
      x.rootPropagation = 'private';
      break;
    case 'swap':
      setConf(ct, 'swap', '512');
      break;
    case 'no-nesting':
      setConf(ct, 'features', undefined);
      break;
    case 'unprivileged':
      setConf(ct, 'unprivileged', '1');
      break;
    case 'modules': {
      const c = conditionsOf(s);
      c.missingModules ??= {};
      c.missingModules[h.name] = ['overlay', 'br_netfilter'];
      break;
    }
    case 'zfs-overlay':
      setConf(ct, 'rootfs', `local-zfs:subvol-${ct.vmid}-disk-0,size=40G`);
      break;
    case 'no-kubectl':
      delete ct.fs['/usr/local/bin/kubectl'];
      break;
    case 'low-disk':
      x.diskUsedPct = 96;
      break;
    case 'clock-skew':
      x.clockOffsetS = 300;
      break;
    case 'sqlite3':
      ct.fs['/usr/bin/sqlite3'] = { content: '\x7fELF sqlite3 (lab)\n', mode: 0o755 };
      break;
    case 'worker-turned-server': {
      // What a bare `curl -sfL https://get.k3s.io | sh -` leaves on an agent: a server unit beside it.
      ct.fs[unitPath('k3s')] = { content: renderUnit('k3s', 'server', []), mode: 0o644 };
      ct.fs[envPath('k3s')] = { content: renderEnvFile({}), mode: 0o600 };
      const agent = ct.k3s.services['k3s-agent'];
      ct.k3s.services.k3s = {
        enabled: true,
        running: true,
        startedAt: now,
        runningVersion: ct.k3s.binaryVersion ?? '',
        previousVersion: undefined,
        cluster: '',
        failure: undefined,
      };
      startService(s, { host: h, ct }, { service: 'k3s', now, hooks: LAB_HOOKS });
      if (agent) ct.k3s.services['k3s-agent'] = agent;
      break;
    }
  }
}
