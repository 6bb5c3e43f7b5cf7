/** Go's time.ParseDuration / Duration.String(), as kubectl flags and messages use them. */
const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when Go would reject it. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = text.startsWith('-') || text.startsWith('+') ? 1 : 0;
  if (i === text.length) return undefined;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m?.[1] || !m[2]) return undefined;
    total += Number(m[1]) * (UNITS[m[2]] ?? 0);
    i = re.lastIndex;
  }
  return text.startsWith('-') ? -total : total;
}

export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = +((ms % 60_000) / 1000).toFixed(3);
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
