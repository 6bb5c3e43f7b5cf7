/**
 * Where pve-k3s keeps its files, following the XDG base directory spec. Pure functions of the
 * environment passed in, so tests can point them anywhere.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** The user's home directory: `$HOME` when set, else the OS account's. */
export function homeDir(env: NodeJS.ProcessEnv): string {
  const home = env['HOME'];
  return home !== undefined && home !== '' ? home : homedir();
}

/** `$XDG_CONFIG_HOME/pve-k3s`, else `~/.config/pve-k3s`. Holds the default inventory. */
export function configDir(env: NodeJS.ProcessEnv): string {
  return join(xdgBase(env, 'XDG_CONFIG_HOME', '.config'), 'pve-k3s');
}

/** `$XDG_STATE_HOME/pve-k3s`, else `~/.local/state/pve-k3s`. Holds journals and the lab. */
export function stateDir(env: NodeJS.ProcessEnv): string {
  return join(xdgBase(env, 'XDG_STATE_HOME', join('.local', 'state')), 'pve-k3s');
}

/** `$XDG_CACHE_HOME/pve-k3s`, else `~/.cache/pve-k3s`. Holds what can be made again (validated inventories). */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(xdgBase(env, 'XDG_CACHE_HOME', '.cache'), 'pve-k3s');
}

// The spec says a relative XDG_* value is invalid and must be ignored.
function xdgBase(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  return value !== undefined && isAbsolute(value) ? value : join(homeDir(env), fallback);
}

/**
 * Expands a leading `~` or `~/` to `home`, then resolves a relative path against `baseDir`
 * (the inventory file's directory), so the inventory means the same from any working directory.
 */
export function resolveUserPath(path: string, baseDir: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return resolve(baseDir, path);
}
