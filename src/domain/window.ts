/**
 * Maintenance windows, as system-upgrade-controller's `window` and kured's
 * --reboot-days/--start-time/--end-time/--time-zone define them: a moment is inside when its
 * weekday (in the window's time zone) is one of `days` and its time of day is in
 * [start, end). A start after the end wraps past midnight, and, as in SUC and kured, the day
 * checked is the day of the moment itself: a Saturday 22:00-04:00 window needs `sat, sun` to
 * go on after midnight. Time zones through Intl (the IANA database Node ships).
 */
import type { UpgradeWindow } from './policy.js';

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `mon`, `Monday`, `MONDAY` -> `monday`; undefined for anything else. */
export function parseWeekday(text: string): Weekday | undefined {
  const t = text.trim().toLowerCase();
  if (t.length < 3) return undefined;
  return WEEKDAYS.find((d) => d === t || (t.length === 3 && d.startsWith(t)));
}

/** `22:00`, `4:30`, `24:00` (end of day), kured's `3am`/`11pm` -> minutes since midnight; undefined when invalid. */
export function parseTimeOfDay(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  const hm = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (hm) {
    const h = Number(hm[1]);
    const m = Number(hm[2]);
    if (h === 24 && m === 0) return 24 * 60;
    return h < 24 && m < 60 ? h * 60 + m : undefined;
  }
  const ampm = /^(\d{1,2})(?::(\d{2}))?(am|pm)$/.exec(t);
  if (ampm) {
    const h = Number(ampm[1]);
    const m = Number(ampm[2] ?? '0');
    if (h < 1 || h > 12 || m >= 60) return undefined;
    return ((h % 12) + (ampm[3] === 'pm' ? 12 : 0)) * 60 + m;
  }
  return undefined;
}

/** True when Intl knows the time zone. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface WindowInput {
  days?: string | readonly string[] | undefined;
  start?: string | undefined;
  end?: string | undefined;
  timeZone?: string | undefined;
}

/** A window from the inventory's or the flags' words; throws a TypeError saying which part is wrong. */
export function parseWindow(w: WindowInput): UpgradeWindow {
  const dayWords = w.days === undefined ? [...WEEKDAYS] : typeof w.days === 'string' ? w.days.split(/[\s,]+/).filter(Boolean) : w.days;
  const days: Weekday[] = [];
  for (const d of dayWords) {
    const day = parseWeekday(d);
    if (!day) throw new TypeError(`days: "${d}" is not a day of the week (write mon..sun or monday..sunday)`);
    if (!days.includes(day)) days.push(day);
  }
  if (days.length === 0) throw new TypeError('days: name at least one day');
  const start = w.start ?? '00:00';
  const end = w.end ?? '24:00';
  const s = parseTimeOfDay(start);
  const e = parseTimeOfDay(end);
  if (s === undefined || s === 24 * 60) throw new TypeError(`start: "${start}" is not a time of day (write HH:MM, e.g. 22:00)`);
  if (e === undefined) throw new TypeError(`end: "${end}" is not a time of day (write HH:MM, e.g. 04:00)`);
  if (s === e) throw new TypeError(`start and end are both ${start}: the window would be empty`);
  const timeZone = w.timeZone ?? 'UTC';
  if (!isTimeZone(timeZone))
    throw new TypeError(`timeZone: "${timeZone}" is not a time zone (write an IANA name such as Europe/Berlin, or UTC)`);
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return { days: WEEKDAYS.filter((d) => days.includes(d)), start: hhmm(s), end: hhmm(e), timeZone };
}

// One formatter per time zone: making an Intl.DateTimeFormat costs far more than using one, and
// nextOpening/closingTime ask minute by minute (up to 8 days of minutes).
const LOCAL_FORMATS = new Map<string, Intl.DateTimeFormat>();
function localFormat(timeZone: string): Intl.DateTimeFormat {
  let f = LOCAL_FORMATS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    LOCAL_FORMATS.set(timeZone, f);
  }
  return f;
}

/** The weekday and minute of day of `t` in `timeZone`. */
export function localTime(t: Date, timeZone: string): { weekday: Weekday; minute: number } {
  const parts = localFormat(timeZone).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = get('weekday').toLowerCase() as Weekday;
  return { weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function inWindow(w: UpgradeWindow, t: Date): boolean {
  const { weekday, minute } = localTime(t, w.timeZone);
  if (!w.days.includes(weekday)) return false;
  const s = parseTimeOfDay(w.start)!;
  const e = parseTimeOfDay(w.end)!;
  return s < e ? minute >= s && minute < e : minute >= s || minute < e;
}

const MINUTE = 60_000;
/** Far enough to see every weekday once, and a week's wrap. */
const HORIZON = 8 * 24 * 60;

/** The next moment at or after `from` that is inside the window (minute precision); undefined if none within 8 days. */
export function nextOpening(w: UpgradeWindow, from: Date): Date | undefined {
  if (inWindow(w, from)) return from;
  const first = Math.ceil(from.getTime() / MINUTE) * MINUTE;
  for (let i = 0; i <= HORIZON; i++) {
    const t = new Date(first + i * MINUTE);
    if (inWindow(w, t)) return t;
  }
  return undefined;
}

/** When the window that holds `at` closes (the first minute outside it); undefined when `at` is outside. */
export function closingTime(w: UpgradeWindow, at: Date): Date | undefined {
  if (!inWindow(w, at)) return undefined;
  const first = Math.floor(at.getTime() / MINUTE) * MINUTE;
  for (let i = 1; i <= HORIZON; i++) {
    const t = new Date(first + i * MINUTE);
    if (!inWindow(w, t)) return t;
  }
  return undefined;
}

/** `sat,sun 22:00-04:00 Europe/Berlin`, for messages. */
export function describeWindow(w: UpgradeWindow): string {
  return `${describeDays(w.days)} ${w.start}-${w.end} ${w.timeZone}`;
}

/** Monday first, as a week is read where the window's users live; three or more days in a row as a range: `mon-fri`, `sat,sun`. */
export function describeDays(days: readonly string[]): string {
  if (days.length === 7) return 'every day';
  const week = [...WEEKDAYS.slice(1), WEEKDAYS[0]];
  const runs: Weekday[][] = [];
  for (const d of week) {
    if (!days.includes(d)) continue;
    const last = runs.at(-1);
    const prev = last?.at(-1);
    if (last && prev !== undefined && week.indexOf(prev) === week.indexOf(d) - 1) last.push(d);
    else runs.push([d]);
  }
  const short = (d: string) => d.slice(0, 3);
  return runs.map((r) => (r.length >= 3 ? `${short(r[0]!)}-${short(r.at(-1)!)}` : r.map(short).join(','))).join(',');
}

/** A moment shown in the window's time zone: `Sat 2026-12-05 22:00 Europe/Berlin`. */
export function formatInZone(t: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('weekday')} ${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${timeZone}`;
}
