/** Progress as typed events: the runner emits them, the CLI renders them, tests collect them. */
import type { PveK3sError } from './errors.js';
import type { Phase, Step } from './plan.js';

export type RunEvent =
  | { kind: 'phase-start'; phase: Phase; index: number; total: number }
  | { kind: 'step-start'; step: Step; index: number; total: number }
  | { kind: 'step-done'; step: Step; ms: number; note?: string }
  | { kind: 'step-failed'; step: Step; error: PveK3sError }
  | { kind: 'wait'; step: Step; message: string; elapsedMs: number }
  /** A step still running after 30 s (then every 30 s): how long, and the last thing it said. */
  | { kind: 'heartbeat'; step: Step; elapsedMs: number; last?: string }
  | { kind: 'log'; level: 'info' | 'warn'; message: string; node?: string };

export type Emit = (e: RunEvent) => void;
