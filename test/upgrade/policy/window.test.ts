/** Maintenance windows (issue 16, item 5): the arithmetic (across midnight, DST), the flag, and runs on the lab's virtual clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closingTime, inWindow, nextOpening, parseWindow } from '../../../src/domain/window.js';
import { outsideWindowError, parseWindowFlag, windowStop } from '../../../src/upgrade/policy/window-gate.js';
import { UsageError } from '../../../src/domain/errors.js';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';

cliInProcess();

const at = (iso: string) => new Date(iso);

test('GIVEN a Saturday night window across midnight WHEN moments are checked THEN the day checked is the moment’s own (SUC and kured)', () => {
  const w = parseWindow({ days: ['sat', 'sun'], start: '22:00', end: '04:00', timeZone: 'UTC' });
  assert.equal(inWindow(w, at('2026-12-05T23:30:00Z')), true, 'Sat 23:30');
  assert.equal(inWindow(w, at('2026-12-06T03:59:00Z')), true, 'Sun 03:59');
  assert.equal(inWindow(w, at('2026-12-06T04:00:00Z')), false, 'Sun 04:00: the end is outside');
  assert.equal(inWindow(w, at('2026-12-05T03:00:00Z')), true, 'Sat 03:00 (the tail of a Friday night is a Saturday moment)');
  assert.equal(inWindow(w, at('2026-12-04T23:00:00Z')), false, 'Fri 23:00');
  assert.equal(inWindow(w, at('2026-12-07T01:00:00Z')), false, 'Mon 01:00: Monday is not listed');
  assert.deepEqual(nextOpening(w, at('2026-12-07T01:00:00Z')), at('2026-12-12T00:00:00Z'), 'Mon -> Sat 00:00 (Saturday before 04:00)');
  assert.deepEqual(closingTime(w, at('2026-12-05T23:00:00Z')), at('2026-12-06T04:00:00Z'), 'Sat 23:00 closes Sun 04:00');
});

test('GIVEN a Berlin window over the spring DST change WHEN the clocks skip 02:00-03:00 THEN it opens at 03:00 CEST and lasts one hour', () => {
  const w = parseWindow({ start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' });
  // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z).
  assert.deepEqual(nextOpening(w, at('2026-03-29T00:30:00Z')), at('2026-03-29T01:00:00Z'));
  assert.deepEqual(closingTime(w, at('2026-03-29T01:00:00Z')), at('2026-03-29T02:00:00Z'));
  // The day before, the same window is two hours long: 01:00Z-03:00Z (CET).
  assert.deepEqual(nextOpening(w, at('2026-03-28T00:00:00Z')), at('2026-03-28T01:00:00Z'));
  assert.deepEqual(closingTime(w, at('2026-03-28T01:00:00Z')), at('2026-03-28T03:00:00Z'));
});

test('GIVEN a Berlin window over the autumn DST change WHEN 02:00-03:00 happens twice THEN the window is open both times', () => {
  const w = parseWindow({ start: '02:00', end: '03:00', timeZone: 'Europe/Berlin' });
  // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z): 02:00-03:00 local is 00:00Z-02:00Z.
  assert.deepEqual(nextOpening(w, at('2026-10-24T23:00:00Z')), at('2026-10-25T00:00:00Z'));
  assert.equal(inWindow(w, at('2026-10-25T01:30:00Z')), true, 'the second 02:30');
  assert.deepEqual(closingTime(w, at('2026-10-25T00:10:00Z')), at('2026-10-25T02:00:00Z'));
});

test('GIVEN a weekly window WHEN asked from inside THEN it is open now; from after it THEN it opens a week later', () => {
  const w = parseWindow({ days: 'mon', start: '09:00', end: '10:00', timeZone: 'America/New_York' });
  assert.deepEqual(nextOpening(w, at('2026-12-07T14:30:00Z')), at('2026-12-07T14:30:00Z'), 'Mon 09:30 EST is inside');
  assert.deepEqual(nextOpening(w, at('2026-12-07T15:00:00Z')), at('2026-12-14T14:00:00Z'), 'Mon 10:00 EST: next Monday 09:00');
});

test('GIVEN --window specs WHEN parsed THEN days and zone are optional, and a bad part is named', () => {
  assert.deepEqual(parseWindowFlag('sat,sun 22:00-04:00 Europe/Berlin'), {
    days: ['sunday', 'saturday'],
    start: '22:00',
    end: '04:00',
    timeZone: 'Europe/Berlin',
  });
  assert.deepEqual(parseWindowFlag('1:00-5:30').days.length, 7);
  assert.equal(parseWindowFlag('1:00-5:30').timeZone, 'UTC');
  assert.throws(
    () => parseWindowFlag('sat 22:00'),
    (e: unknown) => e instanceof UsageError && /write \[DAYS\] START-END/.test(e.message),
  );
  assert.throws(
    () => parseWindowFlag('sat 22:00-04:00 Mars/Olympus'),
    (e: unknown) => e instanceof UsageError && /timeZone: "Mars\/Olympus" is not a time zone/.test(e.message),
  );
  assert.throws(() => parseWindowFlag('caturday 22:00-04:00'), /days: "caturday" is not a day of the week/);
});

test('GIVEN a closed window WHEN a run would start or a node begin THEN the message says when the next opens', () => {
  const w = parseWindow({ days: ['sat'], start: '22:00', end: '23:00', timeZone: 'UTC' });
  const e = outsideWindowError(w, at('2026-12-05T20:00:00Z'), 'upgrade');
  assert.equal(e.message, 'outside the maintenance window (sat 22:00-23:00 UTC): the next one opens Sat 2026-12-05 22:00 UTC (in 2h)');
  assert.equal(e.exitCode, 1);
  assert.match(e.hint ?? '', /--wait-for-window/);
  assert.equal(windowStop(w, at('2026-12-05T22:30:00Z')), undefined);
  assert.equal(
    windowStop(w, at('2026-12-05T23:00:00Z'))?.message,
    'the maintenance window (sat 22:00-23:00 UTC) is closed; the next one opens Sat 2026-12-12 22:00 UTC (in 167h)',
  );
});

async function withLab(fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture({});
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}
/** `HH:MM` in UTC, `minutes` from the lab's now (floored to the minute). */
const hhmm = (f: LabFixture, minutes: number) => {
  const t = new Date(Math.floor(f.lab.clock.now() / 60_000) * 60_000 + minutes * 60_000);
  return `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
};
const kubelets = (f: LabFixture) => Object.fromEntries(f.lab.summary().map((n) => [n.name, n.kubelet]));
const journal = (f: LabFixture) =>
  readFileSync(join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step?: string; message?: string; status?: string });

test('GIVEN a window that opens in an hour WHEN upgrade runs THEN it refuses (exit 1, when it opens); with --wait-for-window it waits, then upgrades', async () => {
  await withLab(async (f) => {
    const win = `${hhmm(f, 60)}-${hhmm(f, 120)}`;
    const r = await f.cli(['upgrade', '--yes', '--window', win]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: outside the maintenance window \\(every day ${win} UTC\\): the next one opens \\w{3} \\d{4}-\\d\\d-\\d\\d ${win.slice(0, 5)} UTC \\(in (59m\\d*s?|1h)\\)$`,
        'm',
      ),
    );
    assert.match(r.stderr, /nothing was changed/);
    assert.equal(kubelets(f)['k3s-worker-1'], 'v1.33.3+k3s1');
    const plan = await f.cli(['plan', '--window', win, '-o', 'json']);
    assert.deepEqual(JSON.parse(plan.stdout).policy.window, {
      days: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
      start: win.slice(0, 5),
      end: win.slice(6),
      timeZone: 'UTC',
    });
    const waited = await f.cli(['upgrade', '--yes', '--window', win, '--wait-for-window']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stderr, new RegExp(`^waiting for the maintenance window \\(every day ${win} UTC\\): it opens `, 'm'));
    assert.match(waited.stderr, /^The maintenance window is open: going on\.$/m);
    assert.ok(Object.values(kubelets(f)).every((v) => !v || v === 'v1.33.5+k3s1'));
  });
});

test('GIVEN a window that closes during the run WHEN the next node would start THEN the run stops there, recorded, and resume goes on in the next window', async () => {
  await withLab(async (f) => {
    const win = `${hhmm(f, -1)}-${hhmm(f, 6)}`;
    const r = await f.cli(['upgrade', '--yes', '--window', win, '--soak', '5m']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`stopped before k3s-worker-3: the maintenance window \\(every day ${win} UTC\\) is closed; the next one opens `),
    );
    assert.match(r.stderr, /^The upgrade was stopped before step 1\/k3s-worker-3\/drain\.$/m);
    const k = kubelets(f);
    assert.deepEqual(
      [k['k3s-worker-1'], k['k3s-worker-2'], k['k3s-worker-3'], k['k3s-ctrl-1']],
      ['v1.33.5+k3s1', 'v1.33.5+k3s1', 'v1.33.3+k3s1', 'v1.33.3+k3s1'],
    );
    const end = journal(f)
      .filter((x) => x.type === 'run-end')
      .at(-1);
    assert.equal(end?.status, 'stopped');
    assert.match(end?.message ?? '', /the maintenance window .* is closed/);
    const status = await f.cli(['status']);
    assert.match(status.stdout, /last upgrade stopped: .*pve-k3s resume continues it/);
    // Outside the window, resume refuses too; with --wait-for-window it waits for the next day's window.
    const refused = await f.cli(['resume', '--yes', '--window', win]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error: outside the maintenance window .*: the next one opens .*\(in (2[23]h|\d+h\d+m)/m);
    assert.match(refused.stderr, /run `pve-k3s resume` then, or now with --wait-for-window/);
    const resumed = await f.cli(['resume', '--yes', '--window', win, '--wait-for-window']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(Object.values(kubelets(f)).every((v) => !v || v === 'v1.33.5+k3s1'));
  });
});

test('GIVEN upgrade.window in the inventory WHEN plan runs THEN it is accepted and shown', async () => {
  await withLab(async (f) => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      f.inventory,
      `${readFileSync(f.inventory, 'utf8')}upgrade:\n  window: { days: [sat, sun], start: "22:00", end: "04:00", timeZone: Europe/Berlin }\n`,
    );
    const r = await f.cli(['plan']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Window: sat,sun 22:00-04:00 Europe\/Berlin: no node starts outside it; a run that reaches its end stops after the node in flight \(resume goes on in the next one\)$/m,
    );
  });
});
