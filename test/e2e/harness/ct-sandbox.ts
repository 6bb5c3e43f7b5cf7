/**
 * Entering a container's root (ct-root.ts) with bubblewrap, as `pct exec` enters an LXC
 * container: the host's system read-only; the container's own /etc (the host's entries as
 * links, with its own rancher/, systemd/system/ and hostname), /var, /usr/local/bin, /root and
 * /tmp writable; a /usr/bin whose `sh` is the shell under test and whose `systemctl`, `curl`,
 * `sqlite3`, `findmnt`, `mount`, `df` and `stat` are the lab model's (lab-program.js), without
 * the host's kubectl or k3s; its own hostname (UTS namespace).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { INSTALL_HOOK } from '../../../src/lab/installer.js';
import { SQLITE3 } from '../../../src/lab/sqlite3.js';
import type { ContainerState } from '../../../src/lab/types.js';
import { createRoot, daemonDir, INSIDE, programCall } from './ct-root.js';

/** The shells the harness runs scripts in: dash (Debian's and Proxmox's /bin/sh) and busybox sh (Alpine's). */
export type RealShell = 'dash' | 'busybox';

export interface RootsConfig {
  labDir: string;
  shell: RealShell;
  bwrap: string;
}

/** The programs of the lab's model put in a root's /usr/bin (their path in the model: /usr/bin/NAME). */
export const MODEL_PROGRAMS = ['systemctl', 'curl', 'findmnt', 'mount', 'df', 'stat'];
/** Host programs a container must not see (the host's kubectl would answer for the lab's cluster). */
const HIDDEN = new Set(['kubectl', 'k3s', 'crictl', 'ctr', 'sqlite3', 'sh', ...MODEL_PROGRAMS]);

export function rootsConfig(rootsDir: string): RootsConfig {
  return JSON.parse(readFileSync(join(rootsDir, 'config.json'), 'utf8')) as RootsConfig;
}

export function rootDirOf(rootsDir: string, host: string, vmid: number): string {
  return join(rootsDir, `${host}-${vmid}`);
}

const stub = (path: string) => `#!/bin/sh\n# pve-k3s e2e: ${path} of the lab's model\n${programCall(path)}\n`;

/** This machine's /etc: where a host root (host-sh.ts) shows it, or /etc. */
export function realEtc(): string {
  return existsSync('/run/pve-k3s-e2e/host-etc/hostname') ? '/run/pve-k3s-e2e/host-etc' : '/etc';
}

/** Links to every entry of `hostDir` (seen at `seenAt` inside), but real directories for `own`. */
export function linkFarm(dir: string, hostDir: string, seenAt: string, own: Record<string, 'dir' | ((p: string) => void)>): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(hostDir)) {
    if (name in own) continue;
    const p = join(dir, name);
    if (existsSync(p) || isLink(p)) continue;
    const st = lstatSync(join(hostDir, name));
    symlinkSync(st.isSymbolicLink() ? readlinkSync(join(hostDir, name)) : `${seenAt}/${name}`, p);
  }
  for (const [name, make] of Object.entries(own)) {
    if (make === 'dir') mkdirSync(join(dir, name), { recursive: true });
    else make(join(dir, name));
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The two /usr/bin a root may get (with or without the model's sqlite3), made once by makeBinFarms(). */
const binFarm = (rootsDir: string, sqlite3: boolean) => join(rootsDir, sqlite3 ? 'usr-bin-sqlite3' : 'usr-bin');

/** Makes the /usr/bin of the roots: links to the host's programs, the model's programs, `sh` the shell under test. */
export function makeBinFarms(rootsDir: string, shell: RealShell): void {
  for (const sqlite3 of [false, true]) {
    const bin = binFarm(rootsDir, sqlite3);
    linkFarm(bin, '/usr/bin', INSIDE.hostBin, {});
    for (const name of readdirSync(bin)) if (HIDDEN.has(name)) rmSync(join(bin, name), { force: true });
    for (const p of MODEL_PROGRAMS) writeFileSync(join(bin, p), stub(`/usr/bin/${p}`), { mode: 0o755 });
    // sqlite3 only where the container has it (the model's /usr/bin/sqlite3).
    if (sqlite3) writeFileSync(join(bin, 'sqlite3'), stub(SQLITE3), { mode: 0o755 });
    writeFileSync(join(bin, INSTALL_HOOK), stub(`/usr/lib/pve-k3s-lab/${INSTALL_HOOK}`), { mode: 0o755 });
    symlinkSync(shell === 'dash' ? 'dash' : `${INSIDE.hostBin}/busybox`, join(bin, 'sh'));
  }
}

/**
 * Creates the root of a container once (built aside and renamed into place, so two `pct`
 * starting at once cannot both half-make it): its /etc, /var, /usr/local/bin, /root, /tmp.
 */
export function ensureRoot(rootsDir: string, host: string, ct: ContainerState): string {
  const rootDir = rootDirOf(rootsDir, host, ct.vmid);
  if (existsSync(join(rootDir, 'ref'))) return rootDir;
  const tmp = `${rootDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const fs = join(tmp, 'fs');
  linkFarm(join(fs, 'etc'), realEtc(), '/run/pve-k3s-e2e/host-etc', {
    rancher: () => {},
    systemd: (p) => linkFarm(p, `${realEtc()}/systemd`, '/run/pve-k3s-e2e/host-etc/systemd', { system: () => {} }),
    hostname: (p) => writeFileSync(p, `${ct.hostname}\n`),
  });
  for (const d of ['var/lib', 'var/tmp', 'var/log', 'usr/local/bin', 'root', 'tmp']) mkdirSync(join(fs, d), { recursive: true });
  writeFileSync(join(tmp, 'bin'), binFarm(rootsDir, ct.fs[SQLITE3] !== undefined));
  createRoot(tmp, host, ct.vmid);
  try {
    renameSync(tmp, rootDir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another pct made it first
  }
  return rootDir;
}

/** bwrap's arguments to run argv in the container whose root is `rootDir`, of the roots in `rootsDir`. */
export function bwrapArgs(o: {
  rootsDir: string;
  rootDir: string;
  ct: Pick<ContainerState, 'hostname' | 'fs'>;
  argv: readonly string[];
}): string[] {
  const { rootsDir, rootDir, ct, argv } = o;
  const fs = join(rootDir, 'fs');
  return [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    // The container's LXC settings give it a /dev/kmsg (the model says whether they do).
    ...(ct.fs['/dev/kmsg'] !== undefined ? ['--ro-bind', '/dev/null', '/dev/kmsg'] : []),
    '--tmpfs',
    '/run',
    '--ro-bind',
    daemonDir(rootsDir),
    INSIDE.daemon,
    '--bind',
    rootDir,
    INSIDE.root,
    '--ro-bind',
    '/usr/bin',
    INSIDE.hostBin,
    '--ro-bind',
    realEtc(),
    '/run/pve-k3s-e2e/host-etc',
    '--ro-bind',
    readFileSync(join(rootDir, 'bin'), 'utf8'),
    '/usr/bin',
    '--bind',
    join(fs, 'etc'),
    '/etc',
    '--bind',
    join(fs, 'var'),
    '/var',
    '--bind',
    join(fs, 'usr/local/bin'),
    '/usr/local/bin',
    '--bind',
    join(fs, 'root'),
    '/root',
    '--bind',
    join(fs, 'tmp'),
    '/tmp',
    '--unshare-uts',
    '--hostname',
    ct.hostname,
    '--chdir',
    '/root',
    '--die-with-parent',
    '--',
    ...argv,
  ];
}
