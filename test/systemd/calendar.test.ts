/** OnCalendar parsing and evaluation, checked against systemd's own `systemd-analyze calendar --base-time`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { elapses, longestInterval, parseCalendar, toCron, CalendarError } from '../../src/systemd/calendar.js';

const BASE = Date.UTC(2026, 11, 1, 19, 53, 34); // a Tuesday

/** systemd's normalized form and next elapses (UTC), from the real program. */
function systemd(expr: string, n: number): { normalized: string; times: number[] } {
  const out = execFileSync('systemd-analyze', ['calendar', `--iterations=${n}`, `--base-time=@${Math.floor(BASE / 1000)}`, expr], {
    env: { ...process.env, TZ: 'UTC' },
    encoding: 'utf8',
  });
  const normalized = /Normalized form: (.*)/.exec(out)?.[1] ?? '';
  const times = [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC/g)].map((m) =>
    Date.parse(`${(m[1] ?? '').replace(' ', 'T')}Z`),
  );
  return { normalized, times };
}

const EXPRS = [
  'daily',
  'hourly',
  'weekly',
  'monthly',
  'quarterly',
  'semiannually',
  'yearly',
  'minutely',
  '*-*-* 02:30:00',
  '02:30',
  'Mon..Fri *-*-* 01:00',
  'Sat,Sun 03:15',
  '*:0/15',
  '*-*-01 00:00:00',
  '*-*-* 00/6:00:00',
  '*-02-29 12:00',
  '2027-*-* 00:00:00',
  '*-*-* 08..18/2:00:00',
  'Sun *-*-* 23:59:59',
  'daily UTC',
  '*-*-1,15 06:00',
];

for (const expr of EXPRS) {
  test(`GIVEN OnCalendar "${expr}" WHEN evaluated THEN the next 12 runs and the normalized form are systemd's`, () => {
    const spec = parseCalendar(expr);
    const want = systemd(`${spec.normalized} UTC`, 12);
    assert.equal(want.times.length, 12);
    assert.deepEqual(
      elapses(spec, BASE, 12).map((t) => new Date(t).toISOString()),
      want.times.map((t) => new Date(t).toISOString()),
    );
    // The original expression (in UTC) means the same to systemd.
    assert.deepEqual(systemd(/utc$/i.test(expr) ? expr : `${expr} UTC`, 12).times, want.times);
    assert.equal(`${spec.normalized} UTC`, want.normalized);
  });
}

test('GIVEN schedules WHEN the longest interval is asked THEN weekday-only schedules count the weekend', () => {
  const h = 3600_000;
  assert.equal(longestInterval(parseCalendar('daily'), BASE), 24 * h);
  assert.equal(longestInterval(parseCalendar('hourly'), BASE), h);
  assert.equal(longestInterval(parseCalendar('Mon..Fri 01:00'), BASE), 72 * h);
  assert.equal(longestInterval(parseCalendar('weekly'), BASE), 7 * 24 * h);
});

test('GIVEN schedules WHEN converted to cron for k3s THEN the cron means the same, or there is none', () => {
  assert.equal(toCron(parseCalendar('daily')), '0 0 * * *');
  assert.equal(toCron(parseCalendar('hourly')), '0 * * * *');
  assert.equal(toCron(parseCalendar('*-*-* 00/6:00:00')), '0 */6 * * *');
  assert.equal(toCron(parseCalendar('Mon..Fri 01:30')), '30 1 * * 1-5');
  assert.equal(toCron(parseCalendar('Sat,Sun 03:15')), '15 3 * * 6,0');
  assert.equal(toCron(parseCalendar('weekly')), '0 0 * * 1');
  assert.equal(toCron(parseCalendar('*-*-* 02:30:10')), undefined);
  assert.equal(toCron(parseCalendar('2027-*-* 00:00')), undefined);
});

test('GIVEN expressions pve-k3s cannot reason about WHEN parsed THEN each is refused with what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['bogus', /cannot read the weekday "bogus"/],
    ['*-*-* 25:00', /the hour "25" is outside 0\.\.23/],
    ['*-13-01', /the month "13" is outside 1\.\.12/],
    ['daily Europe/Berlin', /UTC only/],
    ['*-*~01', /"~"/],
    ['*-*-* 00:00:00.5', /fractional/],
    ['Fri..Mon 04:00', /runs backwards/],
  ];
  for (const [expr, re] of cases)
    assert.throws(
      () => parseCalendar(expr),
      (e: unknown) => e instanceof CalendarError && re.test(e.message),
      expr,
    );
});
