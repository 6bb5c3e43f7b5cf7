/**
 * systemd calendar events (`OnCalendar=`, systemd.time(7)): the forms backup schedules use,
 * parsed and evaluated in UTC. Pure. Supported: the shorthands (minutely, hourly, daily,
 * weekly, monthly, quarterly, semiannually, yearly/annually), `[weekdays] [[YYYY-]MM-DD]
 * [HH:MM[:SS]] [UTC]` with `*`, lists `a,b`, ranges `a..b` and repetitions `a/n`. Anything else
 * (time zones other than UTC, `~` last days, fractional seconds) is refused with a message, so
 * a schedule pve-k3s installs is one it can also reason about (next run, expected interval).
 */

export interface CalendarSpec {
  /** What the user wrote. */
  original: string;
  /** systemd's normalized form, e.g. `*-*-* 00:00:00`. */
  normalized: string;
  weekdays: Field;
  year: Field;
  month: Field;
  day: Field;
  hour: Field;
  minute: Field;
  second: Field;
}

interface Item {
  start: number;
  end: number;
  step: number;
}
interface Field {
  /** undefined = every value (`*`). */
  items: Item[] | undefined;
  text: string;
  max?: number;
}

export class CalendarError extends Error {}

const SHORTHANDS: Record<string, string> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
};

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_NAMES: Record<string, number> = {};
DAYS.forEach((d, i) => {
  DAY_NAMES[d.toLowerCase()] = i;
});
Object.assign(DAY_NAMES, {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
});

function field(text: string, range: { min: number; max: number; what: string }, original: string): Field {
  const { min, max, what } = range;
  if (text === '*') return { items: undefined, text: '*' };
  const items: Item[] = [];
  for (const part of text.split(',')) {
    const m = /^(\*|\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CalendarError(`"${original}": cannot read the ${what} "${part}"`);
    const start = m[1] === '*' ? min : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined || m[1] === '*' ? max : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (start < min || end > max || start > end || step < 1)
      throw new CalendarError(`"${original}": the ${what} "${part}" is outside ${min}..${max}`);
    items.push({ start, end, step });
  }
  return { items, text, max };
}

function weekdayField(text: string, original: string): Field {
  const items: Item[] = [];
  for (const part of text.split(',')) {
    const [a, b, ...rest] = part.split('..');
    const from = DAY_NAMES[(a ?? '').toLowerCase()];
    const to = b === undefined ? from : DAY_NAMES[b.toLowerCase()];
    if (from === undefined || to === undefined || rest.length > 0)
      throw new CalendarError(`"${original}": cannot read the weekday "${part}" (Mon, Tue, ..., or a range Mon..Fri)`);
    // systemd weeks start on Monday: Sat..Mon wraps.
    // systemd weeks start on Monday, and a range does not wrap (Fri..Mon is refused, as systemd does).
    const f = (from + 6) % 7;
    const t = (to + 6) % 7;
    if (f > t) throw new CalendarError(`"${original}": the weekday range "${part}" runs backwards (write Fri..Sun,Mon)`);
    items.push({ start: f, end: t, step: 1 });
  }
  return { items, text };
}

const pad2 = (f: Field) =>
  f.items === undefined
    ? '*'
    : f.items
        .map((i) => {
          const s = String(i.start).padStart(2, '0');
          if (i.step !== 1) return i.end === f.max ? `${s}/${i.step}` : `${s}..${String(i.end).padStart(2, '0')}/${i.step}`;
          return i.end === i.start ? s : `${s}..${String(i.end).padStart(2, '0')}`;
        })
        .join(',');

/** Parses an OnCalendar expression; throws CalendarError naming what it could not read. */
export function parseCalendar(input: string): CalendarSpec {
  const original = input;
  let text = input.trim().replace(/\s+/g, ' ');
  if (text === '') throw new CalendarError('the calendar expression is empty');
  if (/ utc$/i.test(text)) text = text.slice(0, -4);
  const short = SHORTHANDS[text.toLowerCase()];
  if (short) text = short;
  let words = text.split(' ');
  if (
    words.length > 1 &&
    /^[A-Za-z_]+\/[A-Za-z_]+$|^[A-Z]{3,5}$/.test(words[words.length - 1] ?? '') &&
    !/\d/.test(words[words.length - 1] ?? '')
  )
    throw new CalendarError(`"${original}": pve-k3s schedules in UTC only; drop the time zone "${words[words.length - 1]}" or write UTC`);
  if (text.includes('~')) throw new CalendarError(`"${original}": "~" (days from the end of the month) is not supported`);
  let weekdays: Field = { items: undefined, text: '' };
  if (words[0] !== undefined && /^[A-Za-z]/.test(words[0])) {
    weekdays = weekdayField(words[0], original);
    words = words.slice(1);
  }
  let dateText = '*-*-*';
  let timeText = '00:00:00';
  for (const w of words) {
    if (w.includes('-') && !w.includes(':')) dateText = w;
    else if (w.includes(':')) timeText = w;
    else throw new CalendarError(`"${original}": cannot read "${w}" (expected a date like *-*-01 or a time like 02:30)`);
  }
  if (words.length > 2) throw new CalendarError(`"${original}": too many parts`);
  const d = dateText.split('-');
  if (d.length === 2) d.unshift('*');
  if (d.length !== 3) throw new CalendarError(`"${original}": cannot read the date "${dateText}" (YYYY-MM-DD)`);
  const t = timeText.split(':');
  if (t.length === 2) t.push('00');
  if (t.length !== 3) throw new CalendarError(`"${original}": cannot read the time "${timeText}" (HH:MM[:SS])`);
  if (t.some((x) => x.replace(/\.\./g, '').includes('.'))) throw new CalendarError(`"${original}": fractional seconds are not supported`);
  const spec: CalendarSpec = {
    original,
    normalized: '',
    weekdays,
    year: field(d[0] ?? '', { min: 1970, max: 2199, what: 'year' }, original),
    month: field(d[1] ?? '', { min: 1, max: 12, what: 'month' }, original),
    day: field(d[2] ?? '', { min: 1, max: 31, what: 'day' }, original),
    hour: field(t[0] ?? '', { min: 0, max: 23, what: 'hour' }, original),
    minute: field(t[1] ?? '', { min: 0, max: 59, what: 'minute' }, original),
    second: field(t[2] ?? '', { min: 0, max: 59, what: 'second' }, original),
  };
  const year = spec.year.items === undefined ? '*' : pad2(spec.year);
  const wd = weekdays.items === undefined ? '' : `${normalizeWeekdays(weekdays)} `;
  spec.normalized = `${wd}${year}-${pad2(spec.month)}-${pad2(spec.day)} ${pad2(spec.hour)}:${pad2(spec.minute)}:${pad2(spec.second)}`;
  return spec;
}

function normalizeWeekdays(f: Field): string {
  const names = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return (f.items ?? []).map((i) => (i.start === i.end ? names[i.start] : `${names[i.start]}..${names[i.end]}`)).join(',');
}

function matches(f: Field, v: number): boolean {
  if (f.items === undefined) return true;
  return f.items.some((i) => v >= i.start && v <= i.end && (v - i.start) % i.step === 0);
}

/** The first elapse strictly after `after` (epoch ms), in UTC; undefined when there is none before 2200. */
export function nextElapse(spec: CalendarSpec, after: number): number | undefined {
  let t = Math.floor(after / 1000) * 1000 + 1000;
  for (let i = 0; i < 2_000_000; i++) {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    if (y > 2199) return undefined;
    if (!matches(spec.year, y)) {
      t = Date.UTC(y + 1, 0, 1);
      continue;
    }
    const mo = d.getUTCMonth() + 1;
    if (!matches(spec.month, mo)) {
      t = Date.UTC(y, mo, 1);
      continue;
    }
    const day = d.getUTCDate();
    const wd = (d.getUTCDay() + 6) % 7;
    if (!matches(spec.day, day) || !matches(spec.weekdays, wd)) {
      t = Date.UTC(y, mo - 1, day + 1);
      continue;
    }
    const h = d.getUTCHours();
    if (!matches(spec.hour, h)) {
      t = Date.UTC(y, mo - 1, day, h + 1);
      continue;
    }
    const mi = d.getUTCMinutes();
    if (!matches(spec.minute, mi)) {
      t = Date.UTC(y, mo - 1, day, h, mi + 1);
      continue;
    }
    if (!matches(spec.second, d.getUTCSeconds())) {
      t += 1000;
      continue;
    }
    return t;
  }
  return undefined;
}

/** The elapses after `after`, at most `n`. */
export function elapses(spec: CalendarSpec, after: number, n: number): number[] {
  const out: number[] = [];
  let t = after;
  while (out.length < n) {
    const x = nextElapse(spec, t);
    if (x === undefined) break;
    out.push(x);
    t = x;
  }
  return out;
}

/**
 * The longest gap between consecutive runs over the coming year (a weekday-only schedule has a
 * three-day gap over the weekend): the interval a backup older than 2x of is overdue.
 */
export function longestInterval(spec: CalendarSpec, from: number): number | undefined {
  const xs = elapses(spec, from, 400);
  let gap: number | undefined;
  for (let i = 1; i < xs.length; i++) gap = Math.max(gap ?? 0, (xs[i] ?? 0) - (xs[i - 1] ?? 0));
  return gap;
}

/** A cron expression (minute hour day month weekday) with the same runs, when one exists (k3s's etcd-snapshot-schedule-cron). */
export function toCron(spec: CalendarSpec): string | undefined {
  if (spec.year.items !== undefined) return undefined;
  if (!(spec.second.items?.length === 1 && spec.second.items[0]?.start === 0 && spec.second.items[0].end === 0)) return undefined;
  const cronField = (f: Field, max: number): string =>
    f.items === undefined
      ? '*'
      : f.items
          .map((i) => {
            if (i.step !== 1) return `${i.start === 0 ? '*' : `${i.start}-${i.end === max ? max : i.end}`}/${i.step}`;
            return i.start === i.end ? String(i.start) : `${i.start}-${i.end}`;
          })
          .join(',');
  // cron's weekday: 0 = Sunday; ours: 0 = Monday.
  const wd =
    spec.weekdays.items === undefined
      ? '*'
      : spec.weekdays.items
          .map((i) => (i.start === i.end ? String((i.start + 1) % 7) : i.end === 6 ? `${i.start + 1}-6,0` : `${i.start + 1}-${i.end + 1}`))
          .join(',');
  return `${cronField(spec.minute, 59)} ${cronField(spec.hour, 23)} ${cronField(spec.day, 31)} ${cronField(spec.month, 12)} ${wd}`;
}
