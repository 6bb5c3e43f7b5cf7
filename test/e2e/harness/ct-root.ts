/**
 * A lab container as a real root for real programs: a directory per container holding its own
 * /etc/systemd/system, /usr/local/bin, /var/lib/rancher, /var/lib/pve-k3s, /etc/rancher, /root
 * and /tmp, entered with bubblewrap over the host's system bound read-only.
 *
 * The lab's model (src/lab) keeps each container's files in its state; this module keeps the
 * two in step with a three-way sync against a manifest of what both sides last agreed on: what
 * a real program changed in the directory goes into the state, then what the model changed in
 * the state goes out to the directory. It runs under the lab's state lock, before and after
 * every `pct` and every stub program, so the model's programs (kubectl, k3s, systemctl, the
 * installer...) always see what the real sh wrote, and the real sh what they wrote.
 *
 * Files the model runs as programs (the k3s binary, its lab uninstall scripts) cannot be run by
 * a real kernel: in the directory they are a small sh wrapper that calls lab-program.ts and
 * carries the model's content (base64) in a comment, so the sync reads the same content back.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
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
import { dirname, join } from 'node:path';
import { binaryVersion } from '../../../src/lab/k3s-files.js';
import type { FileEntry, FileMap } from '../../../src/lab/types.js';

/** The container paths a real program may change (each a writable directory of the container's root). */
export const MANAGED = ['/etc/systemd/system', '/usr/local/bin', '/var/lib/rancher', '/var/lib/pve-k3s', '/etc/rancher', '/root', '/tmp'];
/** Those that are mount points of the root (always there); the others come and go with the container's files. */
export const MOUNTS = ['/usr/local/bin', '/root', '/tmp'];

/** Where the harness's own things appear inside a root (a tmpfs over /run). */
export const INSIDE = {
  dir: '/run/pve-k3s-e2e',
  /** The harness daemon's directory (its socket, its client: daemon.ts), read-only. */
  daemon: '/run/pve-k3s-e2e/daemon',
  root: '/run/pve-k3s-e2e/root',
  hostBin: '/run/pve-k3s-e2e/host-usr-bin',
  /** `<host> <vmid>`: which lab container this root is. */
  ref: '/run/pve-k3s-e2e/root/ref',
} as const;

/** The harness daemon's directory of a set of roots (daemon.ts), seen at INSIDE.daemon in every root. */
export const daemonDir = (rootsDir: string): string => join(rootsDir, 'daemon');
/** The daemon's socket, in its directory. */
export const daemonSocket = (dir: string): string => join(dir, 'sock');
/** The client (lab-client.pl), copied into the daemon's directory. */
export const CLIENT_NAME = 'lab-client.pl';

/** The command line (for a sh) that runs the model's program `path` (`"$0"` for the wrapper's own) through the harness's client. */
export function programCall(path: string): string {
  return `exec ${INSIDE.hostBin}/perl ${INSIDE.daemon}/${CLIENT_NAME} ${INSIDE.daemon}/sock program ${path} "$@"`;
}

/** The wrapper a model program becomes in a real root. */
export function programWrapper(content: string): string {
  return [
    '#!/bin/sh',
    `# pve-k3s e2e: a program of the lab's model: ${Buffer.from(content, 'utf8').toString('base64')}`,
    programCall('"$0"'),
    '',
  ].join('\n');
}

const WRAPPER = /^#!\/bin\/sh\n# pve-k3s e2e: a program of the lab's model: ([A-Za-z0-9+/=]*)\n/;

/** A file the model runs itself rather than through a sh (k3s, the lab's uninstall scripts). */
function isModelProgram(path: string, e: FileEntry): boolean {
  if (e.dir || e.link !== undefined) return false;
  if (binaryVersion(e.content) !== undefined) return true;
  return /\/(k3s|k3s-agent)-uninstall\.sh$/.test(path) && e.content.includes('(lab)');
}

function signature(e: FileEntry): string {
  const kind = e.dir ? 'd' : e.link !== undefined ? 'l' : 'f';
  const body = e.link ?? (e.dir ? '' : e.content);
  return `${kind}:${(e.mode & 0o7777).toString(8)}:${createHash('sha1').update(body).digest('hex')}`;
}

/** The container's files under MANAGED as they are in the directory (model programs decoded). */
function readRoot(fsDir: string, managedDirs: readonly string[], mounts: readonly string[]): FileMap {
  const out: FileMap = {};
  const walk = (inside: string): void => {
    const real = join(fsDir, inside);
    let names: string[];
    try {
      names = readdirSync(real);
    } catch {
      return;
    }
    for (const name of names) {
      const p = `${inside}/${name}`;
      const st = lstatSync(join(fsDir, p));
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out[p] = { content: '', mode: 0o777, link: readlinkSync(join(fsDir, p)) };
      else if (st.isDirectory()) {
        out[p] = { content: '', mode, dir: true };
        walk(p);
      } else {
        const text = readFileSync(join(fsDir, p), 'utf8');
        const m = WRAPPER.exec(text);
        out[p] = { content: m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : text, mode };
      }
    }
  };
  for (const m of managedDirs) {
    if (!mounts.includes(m)) {
      const st = lstatSync(join(fsDir, m), { throwIfNoEntry: false });
      if (!st?.isDirectory()) continue;
      out[m] = { content: '', mode: st.mode & 0o7777, dir: true };
    }
    walk(m);
  }
  return out;
}

function writeEntry(fsDir: string, p: string, e: FileEntry): void {
  const real = join(fsDir, p);
  if (existsSync(real) || isLink(real)) {
    const st = lstatSync(real);
    const same = e.dir ? st.isDirectory() : e.link !== undefined ? st.isSymbolicLink() : st.isFile();
    if (!same) rmSync(real, { recursive: true, force: true });
  }
  mkdirSync(dirname(real), { recursive: true });
  if (e.dir) {
    mkdirSync(real, { recursive: true });
    chmodSync(real, e.mode & 0o7777);
  } else if (e.link !== undefined) {
    rmSync(real, { force: true });
    symlinkSync(e.link, real);
  } else {
    writeFileSync(real, isModelProgram(p, e) ? programWrapper(e.content) : e.content);
    chmodSync(real, e.mode & 0o7777);
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Brings a container's directory (`rootDir/fs`) and its files in the lab state (`ctFs`, mutated)
 * into step: the directory's changes since the last sync win, then the state's go out. Call it
 * under the lab's state lock. `rootDir/manifest.json` records what both sides agreed on.
 */
export function syncRoot(
  rootDir: string,
  ctFs: FileMap,
  dirs: { managed: readonly string[]; mounts: readonly string[] } = { managed: MANAGED, mounts: MOUNTS },
): void {
  const managed = (p: string): boolean => dirs.managed.some((m) => p === m || p.startsWith(`${m}/`));
  const fsDir = join(rootDir, 'fs');
  const manifestFile = join(rootDir, 'manifest.json');
  const manifest = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>) : {};
  const isMount = (p: string) => dirs.mounts.includes(p);
  // 1. What real programs changed.
  const onDisk = readRoot(fsDir, dirs.managed, dirs.mounts);
  for (const [p, e] of Object.entries(onDisk)) {
    const sig = signature(e);
    if (manifest[p] === sig) continue;
    ctFs[p] = e;
    manifest[p] = sig;
  }
  for (const p of Object.keys(manifest)) {
    if (onDisk[p] !== undefined || isMount(p)) continue;
    delete ctFs[p];
    delete manifest[p];
  }
  // 2. What the model changed.
  for (const [p, e] of Object.entries(ctFs)) {
    if (!managed(p) || isMount(p)) continue;
    const sig = signature(e);
    if (manifest[p] === sig) continue;
    writeEntry(fsDir, p, e);
    manifest[p] = sig;
  }
  for (const p of Object.keys(manifest).sort().reverse()) {
    if (ctFs[p] !== undefined) continue;
    rmSync(join(fsDir, p), { recursive: true, force: true });
    delete manifest[p];
  }
  writeFileSync(`${manifestFile}.tmp`, JSON.stringify(manifest));
  renameSync(`${manifestFile}.tmp`, manifestFile);
}

/**
 * Whether syncRoot would change nothing on either side (read only: no lock needed). The
 * harness asks this first, so that a call that changed no file (most of them) does not rewrite
 * the lab's whole state under its lock twice.
 */
export function rootInStep(
  rootDir: string,
  ctFs: FileMap,
  dirs: { managed: readonly string[]; mounts: readonly string[] } = { managed: MANAGED, mounts: MOUNTS },
): boolean {
  const managed = (p: string): boolean => dirs.managed.some((m) => p === m || p.startsWith(`${m}/`));
  const manifestFile = join(rootDir, 'manifest.json');
  if (!existsSync(manifestFile)) return false;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>;
  const onDisk = readRoot(join(rootDir, 'fs'), dirs.managed, dirs.mounts);
  for (const [p, e] of Object.entries(onDisk)) if (manifest[p] !== signature(e)) return false;
  for (const p of Object.keys(manifest)) if (onDisk[p] === undefined && !dirs.mounts.includes(p)) return false;
  for (const [p, e] of Object.entries(ctFs)) {
    if (!managed(p) || dirs.mounts.includes(p)) continue;
    if (manifest[p] !== signature(e)) return false;
  }
  for (const p of Object.keys(manifest)) if (ctFs[p] === undefined) return false;
  return true;
}

/** Creates a container's directory (every MANAGED mount point, its ref file). */
export function createRoot(rootDir: string, host: string, vmid: number): void {
  for (const m of MOUNTS) mkdirSync(join(rootDir, 'fs', m), { recursive: true });
  writeFileSync(join(rootDir, 'ref'), `${host} ${vmid}\n`);
}
