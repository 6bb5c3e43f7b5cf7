/** The retention and copy flags `backup` and `backup schedule` share, parsed into their typed forms. */
import { UsageError } from '../../domain/errors.js';
import type { RetentionPolicy } from '../../backup/retention.js';

export interface RetentionFlags {
  keep?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
}

function count(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1, got "${v}"`);
  return n;
}

/** undefined when no retention flag was given (everything is kept). */
export function parseRetention(f: RetentionFlags): RetentionPolicy | undefined {
  const p: RetentionPolicy = {
    last: count('--keep', f.keep),
    daily: count('--keep-daily', f.keepDaily),
    weekly: count('--keep-weekly', f.keepWeekly),
    monthly: count('--keep-monthly', f.keepMonthly),
  };
  const set = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as RetentionPolicy;
  return Object.keys(set).length ? set : undefined;
}

const PRUNE_KEYS = ['keep-all', 'keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'];

/** `--vzdump-keep 3` or `--vzdump-keep keep-last=3,keep-weekly=2`: vzdump's own --prune-backups value. */
export function parseVzdumpKeep(v: string): string {
  if (/^\d+$/.test(v) && Number(v) >= 1) return `keep-last=${Number(v)}`;
  const parts = v.split(',');
  for (const p of parts) {
    const m = /^([a-z-]+)=(\d+)$/.exec(p);
    if (!m || !PRUNE_KEYS.includes(m[1] ?? ''))
      throw new UsageError(`--vzdump-keep ${v}: "${p}" is not a vzdump retention setting`, {
        hint: `a number (keep-last), or ${PRUNE_KEYS.join('=N, ')}=N separated by commas`,
      });
  }
  return parts.join(',');
}
