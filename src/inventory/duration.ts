/**
 * Durations in the inventory: a number of seconds (`90`, `"90"`) or Go-style units
 * (`"90s"`, `"5m"`, `"1h"`, `"1m30s"`). Stored as whole seconds.
 */
const UNITS_RE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const MAX_SECONDS = 366 * 24 * 3600;

/** Seconds for a valid, positive duration, else undefined. */
export function parseDuration(value: unknown): number | undefined {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string' && /^\d+$/.test(value)) {
    seconds = Number(value);
  } else if (typeof value === 'string' && value !== '') {
    const m = UNITS_RE.exec(value);
    if (!m) return undefined;
    const [h, min, s] = [m[1], m[2], m[3]].map((p) => (p === undefined ? 0 : Number(p)));
    seconds = (h ?? 0) * 3600 + (min ?? 0) * 60 + (s ?? 0);
  } else {
    return undefined;
  }
  return Number.isSafeInteger(seconds) && seconds > 0 && seconds <= MAX_SECONDS ? seconds : undefined;
}

/** The shortest unit form: 300 -> "5m", 90 -> "1m30s", 3600 -> "1h". */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const text = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return text === '' ? '0s' : text;
}
