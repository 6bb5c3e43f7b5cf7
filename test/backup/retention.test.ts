/** Retention tiers over a simulated year of scheduled backups: exactly the right ones are kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyRetention, hasPolicy, weekKey, type Dated, type RetentionPolicy } from '../../src/backup/retention.js';
import { elapses, parseCalendar } from '../../src/systemd/calendar.js';

const iso = (t: number) => new Date(t).toISOString();

/** Runs the schedule like the timer does: one backup per elapse, retention applied after each one. */
function simulate(every: string, from: number, count: number, p: RetentionPolicy, skip: (t: number) => boolean = () => false) {
  let kept: Dated[] = [];
  const removedAt: Array<[string, string]> = [];
  for (const t of elapses(parseCalendar(every), from, count)) {
    if (skip(t)) continue;
    kept.push({ id: iso(t), time: t });
    const d = applyRetention(kept, p);
    for (const id of d.remove) removedAt.push([id, iso(t)]);
    kept = kept.filter((b) => d.keep.has(b.id));
  }
  return { kept: kept.map((b) => b.id).sort(), removedAt };
}

test('GIVEN a daily backup through 2026 WHEN --keep 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 6 THEN exactly these 14 are kept', () => {
  const { kept } = simulate('*-*-* 02:00', Date.UTC(2025, 11, 31, 12), 365, { last: 3, daily: 7, weekly: 4, monthly: 6 });
  assert.deepEqual(kept, [
    // monthly: the newest of each of the 6 newest months
    '2026-07-31T02:00:00.000Z',
    '2026-08-31T02:00:00.000Z',
    '2026-09-30T02:00:00.000Z',
    '2026-10-31T02:00:00.000Z',
    '2026-11-30T02:00:00.000Z',
    // weekly: the Sundays closing the ISO weeks 50..52 (week 53 is still open on Thu 31)
    '2026-12-13T02:00:00.000Z',
    '2026-12-20T02:00:00.000Z',
    // daily: the newest 7 days (the last 3 are among them)
    '2026-12-25T02:00:00.000Z',
    '2026-12-26T02:00:00.000Z',
    '2026-12-27T02:00:00.000Z',
    '2026-12-28T02:00:00.000Z',
    '2026-12-29T02:00:00.000Z',
    '2026-12-30T02:00:00.000Z',
    '2026-12-31T02:00:00.000Z',
  ]);
  assert.equal(weekKey(Date.UTC(2026, 11, 31)), '2026-W53');
  assert.equal(weekKey(Date.UTC(2026, 11, 27)), '2026-W52');
  assert.equal(weekKey(Date.UTC(2027, 0, 3)), '2026-W53');
  assert.equal(weekKey(Date.UTC(2027, 0, 4)), '2027-W01');
});

test('GIVEN hourly backups for a year with a missed week in March WHEN --keep 24 --keep-daily 7 --keep-weekly 8 --keep-monthly 12 THEN the tiers count days that have backups', () => {
  const missed = (t: number) => t >= Date.UTC(2026, 2, 9) && t < Date.UTC(2026, 2, 16);
  const { kept } = simulate('hourly', Date.UTC(2026, 0, 1) - 1000, 365 * 24, { last: 24, daily: 7, weekly: 8, monthly: 12 }, missed);
  const hours = kept.filter((k) => k.startsWith('2026-12-31'));
  assert.equal(hours.length, 24, 'the last 24 hours');
  // daily: Dec 25..30 at 23:00 (Dec 31 is covered by the newest)
  for (let d = 25; d <= 30; d++) assert.ok(kept.includes(`2026-12-${d}T23:00:00.000Z`), `daily ${d}`);
  // weekly: the last backup of each ISO week: Thu 31 (week 53, still open), then the Sundays Nov 15 .. Dec 27
  assert.ok(!kept.includes('2026-11-08T23:00:00.000Z'), 'a ninth week');
  for (const d of ['2026-11-15', '2026-11-22', '2026-11-29', '2026-12-06', '2026-12-13', '2026-12-20', '2026-12-27'])
    assert.ok(kept.includes(`${d}T23:00:00.000Z`), `weekly ${d}`);
  // monthly: the last backup of every month of the year
  for (const d of ['01-31', '02-28', '03-31', '04-30', '05-31', '06-30', '07-31', '08-31', '09-30', '10-31', '11-30'])
    assert.ok(kept.includes(`2026-${d}T23:00:00.000Z`), `monthly ${d}`);
  assert.equal(kept.length, 24 + 6 + 6 + 11, kept.join('\n'));
  // Right after the missed week, the daily tier reaches back over it to the days that have backups.
  const march = simulate('hourly', Date.UTC(2026, 0, 1) - 1000, (31 + 28 + 16) * 24, { daily: 7 }, missed).kept;
  assert.deepEqual(march, [
    '2026-03-03T23:00:00.000Z',
    '2026-03-04T23:00:00.000Z',
    '2026-03-05T23:00:00.000Z',
    '2026-03-06T23:00:00.000Z',
    '2026-03-07T23:00:00.000Z',
    '2026-03-08T23:00:00.000Z',
    '2026-03-16T23:00:00.000Z',
  ]);
});

test('GIVEN a week of backups every 6 hours WHEN --keep 4 --keep-daily 3 THEN the report of what each run removed is exact', () => {
  const { kept, removedAt } = simulate('*-*-* 00/6:00:00', Date.UTC(2026, 11, 6, 23), 28, { last: 4, daily: 3 });
  assert.deepEqual(kept, [
    '2026-12-11T18:00:00.000Z',
    '2026-12-12T18:00:00.000Z',
    '2026-12-13T00:00:00.000Z',
    '2026-12-13T06:00:00.000Z',
    '2026-12-13T12:00:00.000Z',
    '2026-12-13T18:00:00.000Z',
  ]);
  // the first removal: when the 5th backup arrives, the 1st is neither in the last 4 nor the newest of its day
  assert.deepEqual(removedAt[0], ['2026-12-07T00:00:00.000Z', '2026-12-08T00:00:00.000Z']);
  assert.equal(removedAt.length, 28 - kept.length);
});

test('GIVEN any backups and policy WHEN retention runs twice THEN the second run removes nothing, the newest is kept, and no tier keeps more than it says', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }), { minLength: 1, maxLength: 120 }),
      fc.record({
        last: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
        daily: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
        weekly: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        monthly: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      }),
      (times, p) => {
        const items = [...new Set(times)].map((t) => ({ id: iso(t), time: t }));
        const d = applyRetention(items, p);
        const newest = items.reduce((a, b) => (b.time > a.time ? b : a));
        assert.ok(d.keep.has(newest.id));
        assert.equal(d.keep.size + d.remove.length, items.length);
        // Without any tier everything is kept; with tiers, at most the newest plus what each tier says.
        const bound = hasPolicy(p) ? 1 + (p.last ?? 0) + (p.daily ?? 0) + (p.weekly ?? 0) + (p.monthly ?? 0) : items.length;
        assert.ok(d.keep.size <= bound);
        const again = applyRetention(
          items.filter((b) => d.keep.has(b.id)),
          p,
        );
        assert.deepEqual(again.remove, []);
      },
    ),
  );
});
