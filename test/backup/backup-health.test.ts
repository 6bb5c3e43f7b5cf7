/** status --check on backups: WARNING past 2 scheduled runs missed, CRITICAL past 4 or when the last run failed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupItems } from '../../src/status/cluster-health.js';
import type { BackupState } from '../../src/status/backup-state.js';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';

cliInProcess();

const H = 3600_000;
const NOW = Date.UTC(2026, 11, 10, 12);
const daily = {
  every: 'daily',
  onCalendar: '*-*-* 00:00:00 UTC',
  on: 'local',
  intervalMs: 24 * H,
  next: NOW + 12 * H,
  backupRoot: '/b',
  installedAt: NOW - 30 * 24 * H,
  retention: 'last 7',
};
const state = (o: Partial<BackupState>): BackupState => ({
  lastSuccess: undefined,
  lastSizeBytes: undefined,
  lastRun: undefined,
  schedule: daily,
  readError: undefined,
  ...o,
});

test('GIVEN a daily schedule WHEN the last good backup ages THEN ok up to 2 days, WARNING past 2, CRITICAL past 4', () => {
  assert.deepEqual(backupItems(state({ lastSuccess: NOW - 47 * H }), NOW), []);
  assert.deepEqual(backupItems(state({ lastSuccess: NOW - 49 * H }), NOW), [
    { severity: 'warning', text: 'last good backup 2d ago (schedule daily: over 2 runs missed)' },
  ]);
  assert.deepEqual(backupItems(state({ lastSuccess: NOW - 97 * H }), NOW), [
    { severity: 'critical', text: 'last good backup 4d ago (schedule daily: over 4 runs missed)' },
  ]);
});

test('GIVEN a schedule WHEN the last run failed THEN CRITICAL with its error, whatever the age of the last good one', () => {
  assert.deepEqual(
    backupItems(state({ lastSuccess: NOW - 25 * H, lastRun: { at: NOW - H, ok: false, error: 'host pve1 unreachable' } }), NOW),
    [{ severity: 'critical', text: 'last backup failed 60m ago: host pve1 unreachable' }],
  );
  // A success after the failure clears it.
  assert.deepEqual(backupItems(state({ lastSuccess: NOW - H, lastRun: { at: NOW - H, ok: true, error: undefined } }), NOW), []);
});

test('GIVEN no schedule WHEN checked THEN the 7-day rule applies and a failure is a warning', () => {
  const none = (o: Partial<BackupState>) => state({ schedule: undefined, ...o });
  assert.deepEqual(backupItems(none({}), NOW), [{ severity: 'warning', text: 'no backup' }]);
  assert.deepEqual(backupItems(none({ lastSuccess: NOW - 8 * 24 * H }), NOW), [{ severity: 'warning', text: 'last backup 8d ago' }]);
  assert.deepEqual(backupItems(none({ lastSuccess: NOW - H, lastRun: { at: NOW, ok: false, error: undefined } }), NOW), [
    { severity: 'warning', text: 'last backup failed 0s ago' },
  ]);
});

test('GIVEN a lab with a daily schedule whose last good backup is 3 days old WHEN status --check runs THEN WARNING, exit 1; a failed last run THEN CRITICAL, exit 2', async () => {
  const f = await labFixture({});
  try {
    const state = join(f.dir, 'state', 'pve-k3s');
    const root = join(state, 'backups', 'lab');
    mkdirSync(join(state, 'schedules'), { recursive: true });
    mkdirSync(root, { recursive: true });
    const ago = (h: number) => new Date(Date.now() - h * H).toISOString();
    writeFileSync(
      join(state, 'schedules', 'lab.json'),
      JSON.stringify({
        apiVersion: 'pve-k3s.io/v1',
        kind: 'BackupSchedule',
        cluster: 'lab',
        on: 'local',
        every: 'daily',
        onCalendar: '*-*-* 00:00:00 UTC',
        policy: { last: 7 },
        backupRoot: root,
        installedAt: ago(24 * 30),
      }),
    );
    const run = (ok: boolean) =>
      writeFileSync(
        join(root, 'lab.status.json'),
        JSON.stringify({
          apiVersion: 'pve-k3s.io/v1',
          kind: 'BackupStatus',
          cluster: 'lab',
          lastRun: { at: ago(ok ? 72 : 1), ok, ...(ok ? {} : { error: 'k3s-ctrl-1: the backup script failed (exit 1): disk full' }) },
          lastSuccess: { at: ago(72), dir: join(root, 'x'), sizeBytes: 4096 },
        }),
      );
    run(true);
    const w = await f.cli(['status', '--check']);
    assert.equal(w.code, 1, w.stdout + w.stderr);
    assert.match(
      w.stdout,
      /^K3S WARNING - lab: last good backup 3d ago \(schedule daily: over 2 runs missed\) \| nodes=4 ready=4 backup_age=2592\d\ds backup_interval=86400s\n$/,
    );
    run(false);
    const c = await f.cli(['status', '--check']);
    assert.equal(c.code, 2);
    assert.match(
      c.stdout,
      /^K3S CRITICAL - lab: last backup failed 60m ago: k3s-ctrl-1: the backup script failed \(exit 1\): disk full \|/,
    );
    const m = await f.cli(['metrics']);
    assert.match(m.stdout, /^pve_k3s_backup_last_run_success\{cluster="lab"\} 0$/m);
    assert.match(m.stdout, /^pve_k3s_backup_last_size_bytes\{cluster="lab"\} 4096$/m);
    assert.match(m.stdout, /^pve_k3s_backup_schedule_interval_seconds\{cluster="lab"\} 86400$/m);
  } finally {
    f.cleanup();
  }
});
