/** A Proxmox host or a container seen as a machine: a hostname and a file system in the state. */
import { findContainer } from './k3s-model.js';
import { absorbVirtual, hostVirtualFiles } from './pve-files.js';
import { isDir, readFile, resolve, writeFile, describe } from './vfs.js';
import type { ContainerRef, ExecContext } from './context.js';
import type { FileMap } from './types.js';
import { RunError } from '../domain/errors.js';

export interface Machine {
  readonly name: string;
  /** The current file system (read-only view). */
  fs(): FileMap;
  /** Mutates the file system under the state lock. */
  mutate<T>(fn: (fs: FileMap) => T): T;
}

export function containerMachine(ctx: ExecContext, ref: ContainerRef): Machine {
  const get = (s = ctx.store.read()) => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) throw vanished(`container ${ref.vmid} vanished from ${ref.host}`);
    return loc.ct;
  };
  return {
    name: get().hostname,
    fs: () => get().fs,
    mutate: (fn) => ctx.store.update((s) => fn(get(s).fs)),
  };
}

export function hostMachine(ctx: ExecContext, host: string): Machine {
  const get = (s = ctx.store.read()) => {
    const h = s.hosts.find((x) => x.name === host);
    if (!h) throw vanished(`host ${host} vanished`);
    return h;
  };
  // The host's /tmp is a tmpfs of this process (not persisted): probe scripts write many small
  // files there, and rewriting the whole lab state for each would dwarf what is measured.
  const tmp = tmpfsOf(ctx, host);
  // /etc/pve/lxc/<vmid>.conf, /etc/pve/storage.cfg and /proc/modules are virtual (pve-files.ts).
  const virtual = (): FileMap => hostVirtualFiles(ctx.store.read(), get());
  const view = (): FileMap => ({ ...get().fs, ...virtual(), ...tmp });
  return {
    name: host,
    fs: view,
    mutate: (fn) => {
      const before = get().fs;
      const virt = virtual();
      const v = { ...before, ...virt, ...tmp };
      const result = fn(v);
      for (const k of Object.keys(tmp)) if (!(k in v)) delete tmp[k];
      const persisted: FileMap = {};
      const changed: Record<string, string> = {};
      for (const [k, e] of Object.entries(v)) {
        if (isTmp(k)) tmp[k] = e;
        else if (virt[k]) {
          if (virt[k].content !== e.content) changed[k] = e.content;
        } else persisted[k] = e;
      }
      const dirty = Object.keys(changed).length > 0;
      if (dirty || JSON.stringify(persisted) !== JSON.stringify(before))
        ctx.store.update((s) => {
          get(s).fs = persisted;
          if (dirty) absorbVirtual(get(s), changed);
        });
      return result;
    },
  };
}

const TMPFS = new WeakMap<ExecContext, Map<string, FileMap>>();

function isTmp(path: string): boolean {
  return path.startsWith('/tmp/');
}

function tmpfsOf(ctx: ExecContext, host: string): FileMap {
  let perHost = TMPFS.get(ctx);
  if (!perHost) TMPFS.set(ctx, (perHost = new Map()));
  let fs = perHost.get(host);
  if (!fs) perHost.set(host, (fs = {}));
  return fs;
}

export function machineRead(m: Machine, path: string): { content: string } | { error: string } {
  const r = readFile(m.fs(), path);
  return 'error' in r ? { error: describe(r.error) } : r;
}

export function machineWrite(m: Machine, path: string, { content, append }: { content: string; append: boolean }): string | undefined {
  const err = m.mutate((fs) => writeFile(fs, path, { content, append }));
  if (err === 'ENOENT') return 'Directory nonexistent';
  return err === undefined ? undefined : describe(err);
}

export function machineTest(m: Machine, op: string, path: string): boolean {
  const fs = m.fs();
  const { entry } = resolve(fs, path);
  switch (op) {
    case '-e':
      return entry !== undefined;
    case '-f':
      return entry !== undefined && !entry.dir;
    case '-d':
      return isDir(fs, path);
    case '-x':
      return entry !== undefined && (entry.mode & 0o111) !== 0;
    case '-s':
      return entry !== undefined && !entry.dir && entry.content.length > 0;
    case '-r':
    case '-w':
      return entry !== undefined;
    case '-h':
    case '-L':
      return fs[path]?.link !== undefined;
    default:
      return false;
  }
}

/** The lab changed under a running command (reset, or a container moved or destroyed meanwhile). */
export function vanished(what: string): RunError {
  return new RunError(`lab: ${what}`, { hint: 'the lab was reset or changed while the command ran: run it again' });
}
