/** Durations for people: what messages say instead of "900000 ms". */

/**
 * `900000` -> "15m", `90000` -> "1m30s", `3600000` -> "1h", `45000` -> "45s", `2500` -> "2.5s",
 * `300` -> "0.3s". Under 10 s one decimal (when not whole); above, whole seconds.
 */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms}ms`;
  if (ms < 10_000) {
    const s = Math.round(ms / 100) / 10;
    return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
  }
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
