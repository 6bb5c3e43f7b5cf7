/**
 * backup schedule end to end: user units on this machine (a stand-in systemctl on PATH, a temp
 * XDG dir), system units on a lab Proxmox host (the lab's systemctl), k3s's own etcd snapshot
 * schedule on every server, list and remove.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { mkdirp } from '../../src/lab/vfs.js';

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

/** A systemctl that records its argv and answers `show` like systemd 252 with --timestamp=unix. */
function fakeSystemctl(f: LabFixture): { log: () => string[] } {
  const bin = join(f.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(f.dir, 'systemctl.log');
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh
echo "$*" >> '${log}'
case "$*" in
  *show*) printf 'Id=pve-k3s-backup-lab.timer\\nActiveState=active\\nUnitFileState=enabled\\nNextElapseUSecRealtime=@1893456000\\nLastTriggerUSec=n/a\\n\\nId=pve-k3s-backup-lab.service\\nResult=success\\nExecMainStatus=0\\n' ;;
esac
exit 0
`,
  );
  chmodSync(join(bin, 'systemctl'), 0o755);
  f.env['PATH'] = `${bin}:${process.env['PATH'] ?? ''}`;
  return { log: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

const userUnits = (f: LabFixture) => join(f.dir, 'config', 'systemd', 'user');
const record = (f: LabFixture) => join(f.dir, 'state', 'pve-k3s', 'schedules', 'lab.json');

test('GIVEN this machine WHEN backup schedule --every daily --keep 7 runs THEN user units are written and enabled with systemctl --user, recorded, listed and removed', async () => {
  await withLab({}, async (f) => {
    const sc = fakeSystemctl(f);
    const r = await f.cli(['backup', 'schedule', '--every', 'daily', '--keep', '7', '--keep-weekly', '4', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Backup schedule for lab: daily \(OnCalendar=\*-\*-\* 00:00:00 UTC\), last 7, 4 weekly, on this machine \(systemd user units\)\n/,
    );
    assert.match(r.stdout, /Note: user timers run only while you are logged in, unless lingering is on: loginctl enable-linger/);
    const service = readFileSync(join(userUnits(f), 'pve-k3s-backup-lab.service'), 'utf8');
    const timer = readFileSync(join(userUnits(f), 'pve-k3s-backup-lab.timer'), 'utf8');
    assert.match(
      service,
      new RegExp(
        `^ExecStart=${process.execPath.replace(/[/.]/g, '\\$&')} \\S+/dist/src/cli/bin\\.js backup --config ${f.inventory.replace(/[/.]/g, '\\$&')} --to \\S+/state/pve-k3s/backups/lab --keep 7 --keep-weekly 4$`,
        'm',
      ),
    );
    assert.match(timer, /^OnCalendar=\*-\*-\* 00:00:00 UTC$/m);
    assert.match(timer, /^Persistent=true$/m);
    assert.deepEqual(sc.log(), ['--user daemon-reload', '--user enable --now pve-k3s-backup-lab.timer']);
    const rec = JSON.parse(readFileSync(record(f), 'utf8'));
    assert.equal(rec.kind, 'BackupSchedule');
    assert.equal(rec.on, 'local');
    assert.deepEqual(rec.policy, { last: 7, weekly: 4 });

    const list = await f.cli(['backup', 'schedule', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^CLUSTER +ON +EVERY +RETENTION +TIMER +NEXT RUN +LAST RUN +LAST RESULT\nlab +local +daily +last 7, 4 weekly +active\/enabled +2030-01-01T00:00:00\.000Z +never +success\n$/,
    );
    assert.ok(
      sc
        .log()
        .includes(
          '--user show --timestamp=unix -p Id,ActiveState,UnitFileState,NextElapseUSecRealtime,LastTriggerUSec,Result,ExecMainStatus pve-k3s-backup-lab.timer pve-k3s-backup-lab.service',
        ),
    );

    const status = await f.cli(['status']);
    assert.match(
      status.stdout,
      /^backup schedule: daily on local, last 7, 4 weekly; next run \d{4}-\d\d-\d\dT00:00:00\.000Z \(in \d+[hm]\)$/m,
    );

    const again = await f.cli(['backup', 'schedule', '--every', 'hourly', '--keep', '3', '--on', 'pve1', '--yes']);
    assert.equal(again.code, 2);
    assert.equal(
      again.stderr,
      'error: cluster lab already has a backup schedule on local\n  remove it first: pve-k3s backup schedule remove\n',
    );

    const rm = await f.cli(['backup', 'schedule', 'remove']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'Removed the backup schedule of lab on this machine.\n');
    assert.ok(!existsSync(join(userUnits(f), 'pve-k3s-backup-lab.timer')));
    assert.ok(!existsSync(join(userUnits(f), 'pve-k3s-backup-lab.service')));
    assert.ok(!existsSync(record(f)));
    assert.ok(sc.log().includes('--user disable --now pve-k3s-backup-lab.timer'));
  });
});

test('GIVEN a Proxmox host WHEN backup schedule --on pve1 runs THEN system units are installed there, the timer is active and its next run listed', async () => {
  await withLab({}, async (f) => {
    const missing = await f.cli(['backup', 'schedule', '--every', 'Mon..Fri 02:30', '--keep', '5', '--on', 'pve1', '--yes']);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'error: pve1: /usr/local/bin/pve-k3s is not installed there, so the timer would have nothing to run\n  install pve-k3s on pve1 (npm install -g pve-k3s) or pass --program with its path there\n',
    );
    f.lab.update((s) => {
      const h = s.hosts.find((x) => x.name === 'pve1')!;
      mkdirp(h.fs, '/usr/local/bin');
      h.fs['/usr/local/bin/pve-k3s'] = { content: '#!/usr/bin/env node\n', mode: 0o755 };
    });
    const r = await f.cli([
      'backup',
      'schedule',
      '--every',
      'Mon..Fri 02:30',
      '--keep',
      '5',
      '--on',
      'pve1',
      '--vzdump',
      '--storage',
      'local',
      '--vzdump-keep',
      '2',
      '--yes',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pve1: pve-k3s-backup-lab\.timer enabled and started/);
    const fs = f.lab.state.hosts.find((h) => h.name === 'pve1')!.fs;
    assert.match(
      fs['/etc/systemd/system/pve-k3s-backup-lab.service']?.content ?? '',
      /^ExecStart=\/usr\/local\/bin\/pve-k3s backup --config \/etc\/pve-k3s\/lab\.yaml --to \/var\/lib\/pve-k3s\/backups\/lab --keep 5 --vzdump --storage local --vzdump-keep keep-last=2$/m,
    );
    assert.equal(
      fs['/etc/systemd/system/timers.target.wants/pve-k3s-backup-lab.timer']?.link,
      '/etc/systemd/system/pve-k3s-backup-lab.timer',
    );
    assert.equal(fs['/etc/pve-k3s/lab.yaml']?.mode, 0o600);
    assert.match(fs['/etc/pve-k3s/lab.yaml']?.content ?? '', /^cluster: lab$/m);

    const list = await f.cli(['backup', 'schedule', 'list', '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout).schedules[0];
    assert.equal(doc.timer.active, 'active');
    assert.equal(doc.timer.enabled, 'enabled');
    assert.match(doc.nextRun, /T02:30:00\.000Z$/);
    assert.ok([1, 2, 3, 4, 5].includes(new Date(doc.nextRun).getUTCDay()));

    const rm = await f.cli(['backup', 'schedule', 'remove']);
    assert.equal(rm.code, 0, rm.stderr);
    const after = f.lab.state.hosts.find((h) => h.name === 'pve1')!.fs;
    assert.equal(after['/etc/systemd/system/pve-k3s-backup-lab.timer'], undefined);
    assert.equal(after['/etc/systemd/system/timers.target.wants/pve-k3s-backup-lab.timer'], undefined);
    assert.equal(after['/etc/pve-k3s/lab.yaml'], undefined);
  });
});

test("GIVEN embedded etcd WHEN scheduled with --etcd-snapshots THEN every server gets k3s's drop-in (applied at its next restart) and the timer pulls k3s's snapshot", async () => {
  await withLab({ servers: 3, workers: 1, hosts: 2 }, async (f) => {
    fakeSystemctl(f);
    const dry = await f.cli(['backup', 'schedule', '--every', '*-*-* 00/6:00', '--keep', '8', '--etcd-snapshots', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /k3s-server-2: write \/etc\/rancher\/k3s\/config\.yaml\.d\/50-pve-k3s-etcd-snapshot\.yaml \(etcd-snapshot-schedule-cron: "0 \*\/6 \* \* \*", etcd-snapshot-retention: 8\); k3s applies it at its next restart, pve-k3s does not restart it/,
    );
    assert.match(dry.stdout, /--keep 8 --latest-snapshot\)/);
    const r = await f.cli(['backup', 'schedule', '--every', '*-*-* 00/6:00', '--keep', '8', '--etcd-snapshots', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    for (const ct of f.lab.state.hosts.flatMap((h) => h.containers).filter((c) => c.hostname.startsWith('k3s-server')))
      assert.equal(
        ct.fs['/etc/rancher/k3s/config.yaml.d/50-pve-k3s-etcd-snapshot.yaml']?.content,
        '# Written by pve-k3s backup schedule for cluster lab; k3s reads it at its next start.\n# Remove with: pve-k3s backup schedule remove\netcd-snapshot-schedule-cron: "0 */6 * * *"\netcd-snapshot-retention: 8\n',
        ct.hostname,
      );
    // What the timer runs: a snapshot k3s took on its schedule is pulled, with the token.
    const snap = await f.lab
      .shell('pve1')
      .run(['pct', 'exec', '100', '--', '/usr/local/bin/k3s', 'etcd-snapshot', 'save', '--name', 'etcd-snapshot']);
    assert.equal(snap.code, 0, snap.stderr);
    const b = await f.cli(['backup', '--latest-snapshot', '-o', 'json']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(JSON.parse(b.stdout).manifest.files[1].path, /^k3s-server-1\/etcd-snapshot-k3s-server-1-\d+$/);
    const rm = await f.cli(['backup', 'schedule', 'remove']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(
      rm.stderr,
      /k3s-server-3: removed \/etc\/rancher\/k3s\/config\.yaml\.d\/50-pve-k3s-etcd-snapshot\.yaml \(k3s stops its own snapshots at its next restart\)/,
    );
  });
});

test('GIVEN a SQLite cluster or a bad expression WHEN scheduling THEN the command says why and what to do', async () => {
  await withLab({}, async (f) => {
    fakeSystemctl(f);
    const etcd = await f.cli(['backup', 'schedule', '--every', 'daily', '--keep', '7', '--etcd-snapshots', '--yes']);
    assert.equal(etcd.code, 2);
    assert.equal(
      etcd.stderr,
      'error: --etcd-snapshots: cluster lab keeps its datastore in SQLite, not embedded etcd\n  drop --etcd-snapshots: the timer backs SQLite up by itself\n',
    );
    const bad = await f.cli(['backup', 'schedule', '--every', 'nightly', '--keep', '7']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'error: --every nightly: "nightly": cannot read the weekday "nightly" (Mon, Tue, ..., or a range Mon..Fri)\n  use daily, hourly, or a systemd OnCalendar expression such as "*-*-* 02:30:00" or "Mon..Fri 01:00"\n',
    );
    const nokeep = await f.cli(['backup', 'schedule', '--every', 'daily']);
    assert.equal(nokeep.code, 2);
    assert.match(nokeep.stderr, /^error: backup schedule needs a retention/);
  });
});
