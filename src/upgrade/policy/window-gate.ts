/**
 * The maintenance window at run time: whether a run may start or a node may begin now, when
 * the next window opens, and waiting for it. The arithmetic is in domain/window.ts (pure, with
 * Intl's time zones); this adds the words, the `--window` flag's spelling and the wait on the
 * run's clock. Shared by every engine: nothing here knows the plan.
 */
import type { Clock } from '../../domain/clock.js';
import { humanDuration } from '../../domain/duration.js';
import { RunError, UsageError } from '../../domain/errors.js';
import type { UpgradeWindow } from '../../domain/policy.js';
import { closingTime, describeWindow, formatInZone, inWindow, nextOpening, parseWindow } from '../../domain/window.js';

/**
 * `--window "sat,sun 22:00-04:00 Europe/Berlin"`: days (optional, default every day), the
 * times, the time zone (optional, default UTC). A usage error says which part is wrong.
 */
export function parseWindowFlag(text: string): UpgradeWindow {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const timesAt = words.findIndex((w) => /^[^-]+-[^-]+$/.test(w) && /\d/.test(w));
  if (timesAt < 0 || timesAt > 1 || words.length > timesAt + 2)
    throw new UsageError(`--window "${text}": write [DAYS] START-END [TIME-ZONE]`, {
      hint: 'e.g. --window "sat,sun 22:00-04:00 Europe/Berlin", or --window 01:00-05:00 (every day, UTC)',
    });
  const [start, end] = words[timesAt]!.split('-');
  try {
    return parseWindow({
      days: timesAt === 1 ? words[0] : undefined,
      start,
      end,
      timeZone: words[timesAt + 1],
    });
  } catch (err) {
    throw new UsageError(`--window "${text}": ${(err as Error).message}`, {
      hint: 'e.g. --window "sat,sun 22:00-04:00 Europe/Berlin"',
    });
  }
}

export type WindowState = { open: true; closesAt: Date | undefined } | { open: false; opensAt: Date | undefined };

export function windowState(w: UpgradeWindow, now: Date): WindowState {
  return inWindow(w, now) ? { open: true, closesAt: closingTime(w, now) } : { open: false, opensAt: nextOpening(w, now) };
}

/** `Sat 2026-12-05 22:00 Europe/Berlin (in 2h)`, or that none opens within a week. */
export function whenOpens(w: UpgradeWindow, now: Date): string {
  const at = nextOpening(w, now);
  return at ? `${formatInZone(at, w.timeZone)} (in ${humanDuration(Math.max(0, at.getTime() - now.getTime()))})` : 'not within a week';
}

/** A run may not start outside the window: exit 1, saying when it opens. */
export function outsideWindowError(w: UpgradeWindow, now: Date, verb: 'upgrade' | 'resume'): RunError {
  return new RunError(`outside the maintenance window (${describeWindow(w)}): the next one opens ${whenOpens(w, now)}`, {
    hint: `run \`pve-k3s ${verb}\` then, or now with --wait-for-window to wait for it (nothing was changed)`,
  });
}

/** Why the run stops before the next node when the window has closed, or undefined while it is open. */
export function windowStop(w: UpgradeWindow, now: Date, verb = 'resume'): { message: string; hint: string } | undefined {
  if (inWindow(w, now)) return undefined;
  return {
    message: `the maintenance window (${describeWindow(w)}) is closed; the next one opens ${whenOpens(w, now)}`,
    hint: `\`pve-k3s ${verb}\` goes on in the next window (with --wait-for-window it waits for it)`,
  };
}

/**
 * Waits on `clock` until the window is open, telling `heartbeat` every `everyMs` how long is
 * left. Throws when no window opens within a week (the window names no day reachable).
 */
export async function waitForWindow(
  w: UpgradeWindow,
  clock: Clock,
  o: { signal?: AbortSignal | undefined; heartbeat?: (message: string) => void; everyMs?: number } = {},
): Promise<void> {
  const every = o.everyMs ?? 10 * 60_000;
  let first = true;
  for (;;) {
    const now = new Date(clock.now());
    if (inWindow(w, now)) return;
    const at = nextOpening(w, now);
    if (!at)
      throw new RunError(`the maintenance window (${describeWindow(w)}) does not open within a week`, { hint: 'check upgrade.window' });
    if (first || o.heartbeat) o.heartbeat?.(`waiting for the maintenance window (${describeWindow(w)}): it opens ${whenOpens(w, now)}`);
    first = false;
    await clock.sleep(Math.max(1000, Math.min(every, at.getTime() - now.getTime())), o.signal);
  }
}
