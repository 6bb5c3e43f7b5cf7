/** Which inventory file a command uses when the user does not say (or says with -c). */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InventoryError } from '../domain/errors.js';
import { configDir } from './paths.js';

export interface FindInventoryOptions {
  /** The path given with -c/--config; it must exist. */
  explicit?: string;
  /** Directory searched first; relative `explicit` paths are resolved against it. */
  cwd: string;
  /** Environment, for XDG_CONFIG_HOME and HOME. */
  env: NodeJS.ProcessEnv;
}

export const INVENTORY_FILE_NAMES = ['pve-k3s.yaml', 'pve-k3s.yml'] as const;

/** The places searched without -c, in order: ./pve-k3s.yaml, ./pve-k3s.yml, then the config dir. */
export function inventoryCandidates(cwd: string, env: NodeJS.ProcessEnv): string[] {
  return [...INVENTORY_FILE_NAMES.map((n) => join(cwd, n)), join(configDir(env), 'pve-k3s.yaml')];
}

/** The absolute path of the inventory file to use; throws InventoryError when there is none. */
export function findInventoryFile(opts: FindInventoryOptions): string {
  if (opts.explicit !== undefined) {
    const path = resolve(opts.cwd, opts.explicit);
    const kind = fileKind(path);
    if (kind === 'file') return path;
    throw new InventoryError(`${opts.explicit}: ${kind === 'dir' ? 'is a directory, not an inventory file' : 'no such inventory file'}`, {
      file: opts.explicit,
      hint: 'Check the path given with -c/--config.',
    });
  }
  const candidates = inventoryCandidates(opts.cwd, opts.env);
  const found = candidates.find((c) => fileKind(c) === 'file');
  if (found !== undefined) return found;
  throw new InventoryError(`no inventory file found (looked for ${candidates.join(', ')})`, {
    hint: 'Run `pve-k3s lab init` to try pve-k3s on a simulated cluster, or write pve-k3s.yaml (see docs/inventory.md), or pass -c FILE.',
  });
}

function fileKind(path: string): 'file' | 'dir' | 'none' {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 'none';
  return st.isDirectory() ? 'dir' : 'file';
}
