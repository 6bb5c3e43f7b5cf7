/**
 * Which backups a retention policy keeps. Pure. The tiers work like restic's `forget`: keep the
 * newest N backups, plus the newest backup of each of the N most recent days (weeks, months)
 * that have one. Days are UTC days, weeks ISO weeks (Monday to Sunday), months calendar months.
 * The newest backup is always kept. A backup kept for one tier is counted once.
 */

export interface RetentionPolicy {
  /** Keep the newest N. */
  last?: number | undefined;
  daily?: number | undefined;
  weekly?: number | undefined;
  monthly?: number | undefined;
}

export interface Dated {
  id: string;
  /** Epoch ms. */
  time: number;
}

export type Reason = 'newest' | 'last' | 'daily' | 'weekly' | 'monthly';

export interface RetentionDecision {
  /** id -> why it is kept (in tier order). */
  keep: Map<string, Reason[]>;
  /** ids to remove, oldest first. */
  remove: string[];
}

export function hasPolicy(p: RetentionPolicy): boolean {
  return [p.last, p.daily, p.weekly, p.monthly].some((n) => n !== undefined);
}

const DAY = 86_400_000;

export function dayKey(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** ISO 8601 week, e.g. `2026-W53`. */
export function weekKey(t: number): string {
  const d = new Date(Math.floor(t / DAY) * DAY);
  const wd = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(d.getTime() + (3 - wd) * DAY);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function monthKey(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}

/** Applies the policy; with no tier at all, everything is kept. */
export function applyRetention(items: readonly Dated[], p: RetentionPolicy): RetentionDecision {
  const sorted = [...items].sort((a, b) => b.time - a.time || b.id.localeCompare(a.id));
  const keep = new Map<string, Reason[]>();
  const mark = (id: string, r: Reason) => keep.set(id, [...(keep.get(id) ?? []), r]);
  if (!hasPolicy(p)) {
    for (const b of sorted) mark(b.id, 'last');
    return { keep, remove: [] };
  }
  if (sorted[0]) mark(sorted[0].id, 'newest');
  sorted.slice(0, p.last ?? 0).forEach((b) => mark(b.id, 'last'));
  const tier = (n: number | undefined, key: (t: number) => string, r: Reason) => {
    if (!n) return;
    const seen = new Set<string>();
    for (const b of sorted) {
      const k = key(b.time);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      mark(b.id, r);
    }
  };
  tier(p.daily, dayKey, 'daily');
  tier(p.weekly, weekKey, 'weekly');
  tier(p.monthly, monthKey, 'monthly');
  const remove = sorted
    .filter((b) => !keep.has(b.id))
    .map((b) => b.id)
    .reverse();
  return { keep, remove };
}

export function describePolicy(p: RetentionPolicy): string {
  const parts = [
    p.last !== undefined ? `last ${p.last}` : '',
    p.daily !== undefined ? `${p.daily} daily` : '',
    p.weekly !== undefined ? `${p.weekly} weekly` : '',
    p.monthly !== undefined ? `${p.monthly} monthly` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'keep all';
}
