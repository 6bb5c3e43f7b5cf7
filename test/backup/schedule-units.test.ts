/** The generated timer and service pass systemd's own `systemd-analyze verify`, user and system flavours. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backupArgv,
  etcdCron,
  parseEvery,
  parseShow,
  renderEtcdDropin,
  renderService,
  renderTimer,
  unitBase,
  type ScheduleSpec,
} from '../../src/backup/schedule.js';
import { parseUnitFile } from '../../src/systemd/unit.js';
import { splitWords } from '../../src/domain/text.js';
import { UsageError } from '../../src/domain/errors.js';

function spec(over: Partial<ScheduleSpec> = {}): ScheduleSpec {
  return {
    cluster: 'lab',
    every: 'daily',
    calendar: parseEvery('daily'),
    policy: { last: 3, daily: 7, weekly: 4, monthly: 6 },
    on: 'local',
    scope: 'user',
    program: [process.execPath, '/opt/pve-k3s/dist/src/cli/bin.js'],
    inventory: '/home/me/pve-k3s.yaml',
    backupRoot: '/home/me/.local/state/pve-k3s/backups/lab',
    backupArgs: [],
    ...over,
  };
}

function verify(s: ScheduleSpec): { code: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-units-'));
  try {
    const b = unitBase(s.cluster);
    writeFileSync(join(dir, `${b}.service`), renderService(s));
    writeFileSync(join(dir, `${b}.timer`), renderTimer(s));
    const run = mkdirSync(join(dir, 'run'), { recursive: true }) ?? join(dir, 'run');
    const args = [...(s.scope === 'user' ? ['--user'] : []), 'verify', '--man=no', join(dir, `${b}.timer`), join(dir, `${b}.service`)];
    const r = spawnSync('systemd-analyze', args, {
      encoding: 'utf8',
      env: { ...process.env, XDG_RUNTIME_DIR: run, SYSTEMD_LOG_LEVEL: 'notice' },
    });
    assert.equal(r.error, undefined, 'systemd-analyze must be installed (Debian package systemd)');
    return { code: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('GIVEN a daily user schedule WHEN its units are verified by systemd-analyze THEN they pass with no warning', () => {
  const r = verify(spec());
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
});

test('GIVEN a system schedule on a Proxmox host with vzdump and an off-host copy WHEN verified THEN it passes', () => {
  const s = spec({
    on: 'pve1',
    scope: 'system',
    program: [process.execPath],
    inventory: '/etc/pve-k3s/lab.yaml',
    backupRoot: '/var/lib/pve-k3s/backups/lab',
    every: 'Mon..Fri 01:30',
    calendar: parseEvery('Mon..Fri 01:30'),
    backupArgs: ['--vzdump', '--storage', 'pbs', '--vzdump-keep', 'keep-last=3', '--copy-to', 'backup@nas:/srv/k3s'],
  });
  const r = verify(s);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const unit = parseUnitFile(renderService(s));
  assert.deepEqual(unit.get('Service')?.get('Environment'), ['NO_COLOR=1', 'XDG_STATE_HOME=/var/lib']);
  assert.deepEqual(unit.get('Unit')?.get('After'), ['network-online.target']);
});

test('GIVEN paths with spaces, quotes, % and $ WHEN rendered THEN systemd reads each ExecStart word back unchanged', () => {
  const s = spec({ inventory: '/home/me/my "lab" 100%/pve k3s $HOME.yaml', backupRoot: "/srv/it's here" });
  const r = verify(s);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const exec = parseUnitFile(renderService(s)).get('Service')?.get('ExecStart')?.[0] ?? '';
  // systemd unescapes %% and $$ after splitting words as sh-like quoting does
  const words = splitWords(exec).map((w) => w.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  assert.deepEqual(words, backupArgv(s));
});

test('GIVEN the timer WHEN read THEN it is Persistent, in UTC, names its service, and says the schedule and retention', () => {
  const t = parseUnitFile(renderTimer(spec()));
  assert.deepEqual(t.get('Timer')?.get('OnCalendar'), ['*-*-* 00:00:00 UTC']);
  assert.deepEqual(t.get('Timer')?.get('Persistent'), ['true']);
  assert.deepEqual(t.get('Timer')?.get('Unit'), ['pve-k3s-backup-lab.service']);
  assert.deepEqual(t.get('Install')?.get('WantedBy'), ['timers.target']);
  assert.deepEqual(t.get('Unit')?.get('Description'), ['pve-k3s backup of cluster lab: daily, last 3, 7 daily, 4 weekly, 6 monthly']);
  assert.deepEqual(backupArgv(spec()).slice(2), [
    'backup',
    '--config',
    '/home/me/pve-k3s.yaml',
    '--to',
    '/home/me/.local/state/pve-k3s/backups/lab',
    '--keep',
    '3',
    '--keep-daily',
    '7',
    '--keep-weekly',
    '4',
    '--keep-monthly',
    '6',
  ]);
});

test("GIVEN an embedded-etcd schedule WHEN rendered THEN k3s's drop-in has the cron and retention and the service pulls k3s's snapshot after it", () => {
  const s = spec({ etcd: { cron: etcdCron(parseEvery('daily'), 'daily', undefined), retention: 5, servers: ['k3s-server-1'] } });
  assert.equal(
    renderEtcdDropin(s),
    '# Written by pve-k3s backup schedule for cluster lab; k3s reads it at its next start.\n# Remove with: pve-k3s backup schedule remove\netcd-snapshot-schedule-cron: "0 0 * * *"\netcd-snapshot-retention: 5\n',
  );
  assert.ok(backupArgv(s).includes('--latest-snapshot'));
  assert.deepEqual(parseUnitFile(renderService(s)).get('Service')?.get('ExecStartPre'), ['/bin/sleep 300']);
  assert.equal(verify(s).code, 0);
  assert.throws(
    () => etcdCron(parseEvery('*-*-* 00:00:30'), '*-*-* 00:00:30', undefined),
    (e: unknown) => e instanceof UsageError && /no cron equivalent/.test(e.message),
  );
  assert.equal(etcdCron(parseEvery('daily'), 'daily', '15 */4 * * *'), '15 */4 * * *');
});

test('GIVEN systemctl show --timestamp=unix output WHEN parsed THEN next run, last trigger and result are read', () => {
  const st = parseShow(
    'Id=pve-k3s-backup-lab.timer\nActiveState=active\nUnitFileState=enabled\nNextElapseUSecRealtime=@1764633600\nLastTriggerUSec=n/a\n\nId=pve-k3s-backup-lab.service\nResult=exit-code\nExecMainStatus=1\n',
  );
  assert.deepEqual(st, {
    active: 'active',
    enabled: 'enabled',
    next: 1764633600000,
    lastTrigger: undefined,
    result: 'exit-code',
    exitStatus: 1,
  });
});
