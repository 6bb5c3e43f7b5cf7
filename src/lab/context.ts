/** What every simulated command gets: the shared state, the clock, and how to wait. */
import type { LabStore } from './store.js';
import type { ExecResult } from './sh.js';

export interface ExecContext {
  store: LabStore;
  /** The lab's time (its clock: real, or virtual). */
  now(): number;
  /** Waits `ms` of lab time; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** The shim runs on a real host: `pct push` may read real files. */
  realHostFs: boolean;
  /** Benchmarks: told of each piece of simulated node work (drain, install, restart) as it happens. */
  meter?: WorkMeter;
}

export type WorkMeter = (kind: 'drain' | 'install' | 'restart', ms: number) => void;

export interface ContainerRef {
  host: string;
  vmid: number;
}

export const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
export const fail = (code: number, stderr: string, stdout = ''): ExecResult => ({ code, stdout, stderr });

/**
 * `env NAME=value... [cmd args...]`: the leading assignments over `env`, and the command that
 * follows (empty when there is none: then env prints the environment).
 */
export function envArgs(args: readonly string[], env: Record<string, string>): { env: Record<string, string>; rest: string[] } {
  const e = { ...env };
  let i = 0;
  for (; i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i] ?? ''); i++) {
    const a = args[i] ?? '';
    e[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
  }
  return { env: e, rest: args.slice(i) };
}

export function printEnv(env: Record<string, string>): ExecResult {
  return ok(
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
}
