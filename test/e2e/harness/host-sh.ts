/**
 * Every ssh session to an e2e Proxmox host runs here (sshd's ForceCommand is the harness's
 * client, `lab-client.pl <socket> host-sh <host>`, daemon.ts): it runs `$SSH_ORIGINAL_COMMAND`
 * with the shell under test (`sh -c`), in the
 * host's own root: this machine read-only, with the lab host's /etc/pve (its containers'
 * configs, storage.cfg...), /etc/pve-k3s, /etc/systemd/system, /var/lib/vz and
 * /var/lib/pve-k3s as writable directories synced with the lab's files of that host (the same
 * three-way sync as a container's, ct-root.ts), so `cat /etc/pve/lxc/101.conf` and a write to
 * it reach the lab's model. /tmp and the rest stay this machine's (the sshd's PATH, the lab).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecContext } from '../../../src/lab/context.js';
import { hostMachine } from '../../../src/lab/machine.js';
import { rootInStep, syncRoot } from './ct-root.js';
import { linkFarm } from './ct-sandbox.js';
import { callContext, type Handler } from './daemon.js';

/** Sessions (and host roots being made) so far: unique names for their directories. */
let sessions = 0;

/** The host paths synced with the lab's host files. */
export const HOST_MANAGED = ['/etc/pve', '/etc/pve-k3s', '/etc/systemd/system', '/var/lib/vz', '/var/lib/pve-k3s'];

/** The host's root (made once): its /etc and /var link farms with the synced directories. */
export function ensureHostRoot(rootsDir: string, host: string): string {
  const dir = join(rootsDir, `host-${host}`);
  if (existsSync(join(dir, 'ref'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${++sessions}`;
  rmSync(tmp, { recursive: true, force: true });
  const fs = join(tmp, 'fs');
  linkFarm(join(fs, 'etc'), '/etc', '/run/pve-k3s-e2e/host-etc', {
    pve: () => {},
    'pve-k3s': () => {},
    systemd: (p) => linkFarm(p, '/etc/systemd', '/run/pve-k3s-e2e/host-etc/systemd', { system: () => {} }),
  });
  linkFarm(join(fs, 'var'), '/var', '/run/pve-k3s-e2e/host-var', {
    lib: (p) => linkFarm(p, '/var/lib', '/run/pve-k3s-e2e/host-var/lib', { vz: () => {}, 'pve-k3s': () => {} }),
  });
  mkdirSync(join(fs, 'var', 'lib'), { recursive: true });
  writeFileSync(join(tmp, 'ref'), `${host}\n`);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

function syncHost(ctx: ExecContext, host: string, dir: string): void {
  const dirs = { managed: HOST_MANAGED, mounts: [] };
  const m = hostMachine(ctx, host);
  if (!rootInStep(dir, m.fs(), dirs)) m.mutate((files) => syncRoot(dir, files, dirs));
}

/** An ssh session's command (`$SSH_ORIGINAL_COMMAND`, or none: a login shell) in the host's root. */
export const hostSession: Handler = async (call, d) => {
  const [host] = call.args;
  if (!host) return { code: 2, stdout: '', stderr: 'usage: host-sh <host>\n' };
  const { cfg, rootsDir } = d;
  const ctx = callContext(cfg.labDir, call.signal);
  const dir = ensureHostRoot(rootsDir, host);
  syncHost(ctx, host, dir);
  // The lab host's kernel modules as /sys/module shows them (this machine's may differ; its /proc has no modules file to bind over).
  // One directory per session: sessions of one host run at once.
  const modules = join(dir, `sys-module.${process.pid}-${++sessions}`);
  rmSync(modules, { recursive: true, force: true });
  const listed = hostMachine(ctx, host).fs()['/proc/modules']?.content ?? '';
  for (const line of listed.split('\n')) if (line.trim() !== '') mkdirSync(join(modules, line.split(' ')[0] ?? ''), { recursive: true });
  mkdirSync(modules, { recursive: true });
  const shell = cfg.shell === 'dash' ? ['dash'] : ['busybox', 'sh'];
  const command = call.env.SSH_ORIGINAL_COMMAND;
  const args = [
    '--ro-bind',
    '/',
    '/',
    '--dev-bind',
    '/dev',
    '/dev',
    '--proc',
    '/proc',
    '--ro-bind',
    modules,
    '/sys/module',
    '--tmpfs',
    '/run',
    '--ro-bind',
    '/etc',
    '/run/pve-k3s-e2e/host-etc',
    '--ro-bind',
    '/var',
    '/run/pve-k3s-e2e/host-var',
    '--bind',
    join(dir, 'fs', 'etc'),
    '/etc',
    '--bind',
    join(dir, 'fs', 'var'),
    '/var',
    '--bind',
    '/tmp',
    '/tmp',
    '--cap-add',
    'ALL',
    '--die-with-parent',
    '--',
    ...shell,
    ...(command !== undefined ? ['-c', command] : []),
  ];
  try {
    const st = await call.spawn([cfg.bwrap, ...args]);
    syncHost(ctx, host, dir);
    return { code: st.code ?? (st.signal === 9 ? 137 : 143), stdout: '', stderr: '' };
  } finally {
    rmSync(modules, { recursive: true, force: true });
  }
};
