/**
 * Heartbeats: a step that runs longer than `everyMs` (30 s) gets a `heartbeat` event each
 * `everyMs`, with how long it has run and the last thing it said (its last wait or log line),
 * so a long install or wait is never silent. Wraps the runner's emit; the timer is unref'd.
 */
import type { Emit, RunEvent } from '../domain/events.js';
import type { Step } from '../domain/plan.js';

export const HEARTBEAT_MS = 30_000;

export interface Heartbeats {
  emit: Emit;
  stop(): void;
}

export function withHeartbeats(emit: Emit, o: { everyMs?: number; now?: () => number } = {}): Heartbeats {
  const every = o.everyMs ?? HEARTBEAT_MS;
  const now = o.now ?? Date.now;
  const running = new Map<string, { step: Step; startedAt: number; last: string | undefined; next: number }>();
  const timer = setInterval(
    () => {
      const t = now();
      for (const r of running.values()) {
        if (t < r.next) continue;
        r.next += every;
        emit({ kind: 'heartbeat', step: r.step, elapsedMs: t - r.startedAt, ...(r.last !== undefined ? { last: r.last } : {}) });
      }
    },
    Math.max(10, Math.min(1000, Math.floor(every / 10))),
  );
  timer.unref();
  return {
    emit(e: RunEvent) {
      switch (e.kind) {
        case 'step-start':
          running.set(e.step.id, { step: e.step, startedAt: now(), last: undefined, next: now() + every });
          break;
        case 'step-done':
        case 'step-failed':
          running.delete(e.step.id);
          break;
        case 'wait': {
          const r = running.get(e.step.id);
          if (r) r.last = e.message;
          break;
        }
        case 'log':
          for (const r of running.values()) if (e.node === r.step.node) r.last = e.message;
          break;
        default:
          break;
      }
      emit(e);
    },
    stop() {
      clearInterval(timer);
      running.clear();
    },
  };
}
