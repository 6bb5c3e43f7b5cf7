/**
 * Directories of this machine that pve-k3s writes (state directory, backups, kubeconfig): made
 * with a typed error that names what is in the way, instead of the system's ENOTDIR/EEXIST.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileError, errnoCode, fileError } from '../domain/errors.js';

/** The nearest existing ancestor of `path` (or `path` itself) when it is not a directory. */
export function fileInTheWay(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p, { throwIfNoEntry: false });
    } catch (err) {
      if (errnoCode(err) !== 'ENOTDIR') return undefined; // not ours to say; mkdir will
    }
    if (st) return st.isDirectory() ? undefined : p;
    if (dirname(p) === p) return undefined;
  }
}

/**
 * `mkdir -p dir` (mode 0700 for what it creates) before pve-k3s `<action> <path>` in it, or a
 * FileError: "cannot <action> <path>: <file> is a file, not a directory" when a file stands in
 * the way, else the system's reason in words.
 */
export function ensureDir(dir: string, o: { action: string; path: string; hint?: string }): void {
  const blocker = fileInTheWay(dir);
  if (blocker !== undefined)
    throw new FileError(`cannot ${o.action} ${o.path}: ${blocker} is a file, not a directory`, {
      path: o.path,
      code: 'ENOTDIR',
      hint: o.hint ?? `move ${blocker} away, or choose another place`,
    });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fileError(err, { action: o.action, path: o.path, ...(o.hint ? { hint: o.hint } : {}) });
  }
}
