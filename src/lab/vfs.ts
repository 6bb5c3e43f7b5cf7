/**
 * The small in-state file system of a container or host: a flat map path -> entry, with
 * directories as entries so "parent directory exists" can be checked like a real kernel does.
 */
import type { FileEntry, FileMap } from './types.js';

export const BASE_DIRS = [
  '/',
  '/bin',
  '/sbin',
  '/usr',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local',
  '/usr/local/bin',
  '/etc',
  '/etc/systemd',
  '/etc/systemd/system',
  '/tmp',
  '/root',
  '/var',
  '/var/lib',
  '/var/log',
  '/dev',
  '/run',
];

export type VfsError = 'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'ENOTEMPTY';

export function normalizePath(p: string, cwd = '/'): string {
  const parts: string[] = [];
  for (const seg of (p.startsWith('/') ? p : `${cwd}/${p}`).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function newFs(extraDirs: string[] = []): FileMap {
  const fs: FileMap = {};
  for (const d of [...BASE_DIRS, ...extraDirs]) mkdirp(fs, d);
  return fs;
}

/** Follows symlinks (relative to the link's directory), at most 8 hops. */
export function resolve(fs: FileMap, p: string): { path: string; entry: FileEntry | undefined } {
  let cur = normalizePath(p);
  for (let i = 0; i < 8; i++) {
    const e = fs[cur];
    if (e?.link === undefined) return { path: cur, entry: e };
    cur = normalizePath(e.link, dirname(cur));
  }
  return { path: cur, entry: undefined };
}

export function readFile(fs: FileMap, p: string): { content: string } | { error: VfsError } {
  const { entry } = resolve(fs, p);
  if (!entry) return { error: 'ENOENT' };
  if (entry.dir) return { error: 'EISDIR' };
  return { content: entry.content };
}

export function isDir(fs: FileMap, p: string): boolean {
  return resolve(fs, p).entry?.dir === true;
}

/** Writes `content` at `p` (appended with `append`; `mode`, default the file's or 0644). */
export function writeFile(fs: FileMap, p: string, opts: { content: string; append?: boolean; mode?: number }): VfsError | undefined {
  const { content } = opts;
  const { path, entry } = resolve(fs, p);
  if (entry?.dir) return 'EISDIR';
  const parent = fs[dirname(path)];
  if (!parent) return 'ENOENT';
  if (!parent.dir) return 'ENOTDIR';
  const old = entry?.content ?? '';
  fs[path] = { content: opts.append ? old + content : content, mode: opts.mode ?? entry?.mode ?? 0o644 };
  return undefined;
}

export function mkdirp(fs: FileMap, p: string): VfsError | undefined {
  const norm = normalizePath(p);
  const segs = norm.split('/').filter(Boolean);
  let cur = '';
  fs['/'] ??= { content: '', mode: 0o755, dir: true };
  for (const s of segs) {
    cur += `/${s}`;
    const e = fs[cur];
    if (e && !e.dir) return 'ENOTDIR';
    if (!e) fs[cur] = { content: '', mode: 0o755, dir: true };
  }
  return undefined;
}

export function remove(fs: FileMap, p: string, recursive: boolean): VfsError | undefined {
  const norm = normalizePath(p);
  const e = fs[norm];
  if (!e) return 'ENOENT';
  if (e.dir) {
    const children = Object.keys(fs).filter((k) => k.startsWith(`${norm}/`));
    if (!recursive) return 'EISDIR';
    for (const c of children) delete fs[c];
  }
  delete fs[norm];
  return undefined;
}

export function listDir(fs: FileMap, p: string): string[] {
  const norm = normalizePath(p);
  const prefix = norm === '/' ? '/' : `${norm}/`;
  return Object.keys(fs)
    .filter((k) => k !== norm && k.startsWith(prefix) && !k.slice(prefix.length).includes('/'))
    .map((k) => k.slice(prefix.length))
    .sort();
}

/** The `sh`-style message for a failed open. */
export function describe(err: VfsError): string {
  switch (err) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'ENOTEMPTY':
      return 'Directory not empty';
  }
}
