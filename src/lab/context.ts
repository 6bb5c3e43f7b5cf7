/** What every simulated command gets: the shared state, the clock, and how to wait. */
import type { LabStore } from './store.js';
import type { ExecResult } from './sh.js';

export interface ExecContext {
  store: LabStore;
  now(): number;
  sleep(ms: number): Promise<void>;
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

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
