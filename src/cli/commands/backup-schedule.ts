/**
 * `pve-k3s backup schedule --every ... [--on local|<host>]`, `backup schedule list`,
 * `backup schedule remove`. Local schedules are systemd user units (`systemctl --user`, in
 * `$XDG_CONFIG_HOME/systemd/user`); a Proxmox host gets system units over its Shell. The
 * schedule is recorded in `<state dir>/schedules/<cluster>.json` for status and metrics.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, invariant } from '../../domain/errors.js';
import type { Inventory } from '../../inventory/types.js';
import type { Shell } from '../../shell/shell.js';
import type { ScheduleRecord, ScheduleSpec, ScheduleTarget } from '../../backup/schedule.js';
import { loadInventoryFor, out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { parseRetention, parseVzdumpKeep, type RetentionFlags } from './backup-options.js';

export interface ScheduleFlags extends RetentionFlags {
  every?: string;
  on?: string;
  to?: string;
  /** pve-k3s's path on the Proxmox host. */
  program?: string;
  etcdSnapshots?: boolean;
  etcdCron?: string;
  offline?: boolean;
  vzdump?: boolean;
  mode?: 'snapshot' | 'suspend' | 'stop';
  storage?: string;
  vzdumpKeep?: string;
  copyTo?: string[];
  yes?: boolean;
  dryRun?: boolean;
}

const env = process.env;

async function paths() {
  const { configDir, stateDir } = await import('../../inventory/index.js');
  return { userUnitDir: join(dirname(configDir(env)), 'systemd', 'user'), state: stateDir(env) };
}

function recordPath(state: string, cluster: string): string {
  return join(state, 'schedules', `${cluster}.json`);
}

function readRecord(state: string, cluster: string): ScheduleRecord | undefined {
  const f = recordPath(state, cluster);
  if (!existsSync(f)) return undefined;
  try {
    const r = JSON.parse(readFileSync(f, 'utf8')) as ScheduleRecord;
    return r.kind === 'BackupSchedule' ? r : undefined;
  } catch {
    return undefined;
  }
}

function hostOf(inv: Inventory, on: string) {
  const h = inv.hosts.find((x) => x.name === on);
  if (!h)
    throw new UsageError(`--on ${on}: not a host of the inventory ${inv.file}`, {
      hint: `use local or one of: ${inv.hosts.map((x) => x.name).join(', ')}`,
    });
  return h;
}

async function localShell(): Promise<Shell> {
  const { LocalShell } = await import('../../shell/local-shell.js');
  return new LocalShell();
}

/** The machine that runs the timer. Local: the operator's, with user units. */
async function targetFor(on: string, shells: ReadonlyMap<string, Shell> | undefined): Promise<ScheduleTarget> {
  const { SYSTEM_UNIT_DIR } = await import('../../backup/schedule.js');
  if (on === 'local') return { shell: await localShell(), scope: 'user', unitDir: (await paths()).userUnitDir };
  const shell = shells?.get(on);
  invariant(shell, `no shell for host ${on}`);
  return { shell, scope: 'system', unitDir: SYSTEM_UNIT_DIR };
}

export async function scheduleInstall(g: GlobalOptions, flags: ScheduleFlags): Promise<number> {
  const sched = await import('../../backup/schedule.js');
  if (flags.every === undefined)
    throw new UsageError('backup schedule needs --every', { hint: 'e.g. --every daily --keep 7 (or hourly, or an OnCalendar expression)' });
  const calendar = sched.parseEvery(flags.every);
  const policy = parseRetention(flags);
  if (!policy)
    throw new UsageError('backup schedule needs a retention: --keep N (and/or --keep-daily/--keep-weekly/--keep-monthly N)', {
      hint: 'a schedule without one fills the disk: e.g. --keep 7',
    });
  if (!flags.vzdump && (flags.mode !== undefined || flags.storage !== undefined || flags.vzdumpKeep !== undefined))
    throw new UsageError('--mode, --storage and --vzdump-keep apply to --vzdump', { hint: 'add --vzdump' });
  if (flags.etcdCron !== undefined && !flags.etcdSnapshots)
    throw new UsageError('--etcd-cron applies to --etcd-snapshots', { hint: 'add --etcd-snapshots' });
  const { parseDestination } = await import('../../backup/copy.js');
  for (const d of flags.copyTo ?? []) parseDestination(d);
  const on = flags.on ?? 'local';
  const inv = await loadInventoryFor(g);
  if (on !== 'local') hostOf(inv, on);
  const { state } = await paths();
  const existing = readRecord(state, inv.cluster);
  if (existing && existing.on !== on)
    throw new UsageError(`cluster ${inv.cluster} already has a backup schedule on ${existing.on}`, {
      hint: `remove it first: pve-k3s backup schedule remove${existing.on === 'local' ? '' : ` --on ${existing.on}`}`,
    });
  const { defaultBackupRoot } = await import('../../backup/store.js');
  const backupArgs = [
    ...(flags.offline ? ['--offline'] : []),
    ...(flags.vzdump ? ['--vzdump'] : []),
    ...(flags.mode ? ['--mode', flags.mode] : []),
    ...(flags.storage ? ['--storage', flags.storage] : []),
    ...(flags.vzdumpKeep ? ['--vzdump-keep', parseVzdumpKeep(flags.vzdumpKeep)] : []),
    ...(flags.copyTo ?? []).flatMap((d) => ['--copy-to', d]),
  ];
  const needCluster = on !== 'local' || flags.etcdSnapshots === true;
  const run = async (shells: ReadonlyMap<string, Shell> | undefined): Promise<number> => {
    const target = await targetFor(on, shells);
    const servers = inv.nodes.filter((n) => n.role === 'server');
    let etcd: ScheduleSpec['etcd'];
    if (flags.etcdSnapshots) {
      const ds = await datastoreOf(inv, shells);
      if (ds !== 'etcd')
        throw new UsageError(`--etcd-snapshots: cluster ${inv.cluster} keeps its datastore in SQLite, not embedded etcd`, {
          hint: 'drop --etcd-snapshots: the timer backs SQLite up by itself',
        });
      etcd = {
        cron: sched.etcdCron(calendar, flags.every ?? '', flags.etcdCron),
        retention: policy.last ?? 5,
        servers: servers.map((s) => s.name),
      };
    }
    const spec: ScheduleSpec = {
      cluster: inv.cluster,
      every: flags.every ?? '',
      calendar,
      policy,
      on,
      scope: target.scope,
      program: on === 'local' ? [process.execPath, realpathSync(process.argv[1] ?? '')] : [flags.program ?? '/usr/local/bin/pve-k3s'],
      inventory: on === 'local' ? inv.file : sched.inventoryPathOnHost(inv.cluster),
      backupRoot:
        on === 'local'
          ? flags.to
            ? resolve(flags.to)
            : defaultBackupRoot(state, inv.cluster)
          : (flags.to ?? `${sched.HOST_STATE_HOME}/pve-k3s/backups/${inv.cluster}`),
      backupArgs,
      etcd,
    };
    if (on !== 'local' && flags.to !== undefined && !flags.to.startsWith('/'))
      throw new UsageError(`--to ${flags.to}: with --on ${on} it is a path on that host and must be absolute`);
    const plan = sched.installPlan(spec, target, servers);
    const next = (await import('../../systemd/calendar.js')).nextElapse(calendar, Date.now());
    if (g.output === 'table') {
      out(
        `Backup schedule for ${inv.cluster}: ${spec.every} (OnCalendar=${calendar.normalized} UTC), ${(await import('../../backup/retention.js')).describePolicy(policy)}, on ${on === 'local' ? 'this machine (systemd user units)' : `${on} (systemd system units)`}\n`,
      );
      plan.forEach((s, i) => out(`  ${i + 1}. ${s.where}: ${s.text}\n`));
      if (next !== undefined) out(`  first run: ${new Date(next).toISOString()}\n`);
    }
    if (flags.dryRun) {
      if (g.output !== 'table')
        await printDocument(g, { plan, units: { service: sched.renderService(spec), timer: sched.renderTimer(spec) } });
      return 0;
    }
    if (!flags.yes) {
      const { confirm, requireTerminal } = await import('../confirm.js');
      requireTerminal('backup schedule');
      if (!(await confirm('Install this schedule? [y/N] '))) {
        out('Nothing changed.\n');
        return 1;
      }
    }
    const { renderInventory } = await import('../../inventory/index.js');
    await sched.installSchedule({
      spec,
      target,
      hostInventory: on === 'local' ? undefined : renderInventory(sched.hostInventory(inv, on)),
      servers,
      shells: shells ?? new Map(),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const rec = sched.scheduleRecord(spec, target.unitDir, new Date());
    mkdirSync(join(state, 'schedules'), { recursive: true, mode: 0o700 });
    writeFileSync(recordPath(state, inv.cluster), JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
    if (g.output !== 'table') await printDocument(g, rec);
    else {
      const b = sched.unitBase(inv.cluster);
      const sc = on === 'local' ? 'systemctl --user' : `ssh ${on} systemctl`;
      out(
        `Installed. Next run ${next === undefined ? 'unknown' : new Date(next).toISOString()}. See it with: ${sc} list-timers ${b}.timer; its log: ${on === 'local' ? 'journalctl --user' : `ssh ${on} journalctl`} -u ${b}.service\n`,
      );
      if (on === 'local') out('Note: user timers run only while you are logged in, unless lingering is on: loginctl enable-linger\n');
      if (spec.etcd) out('k3s takes its own etcd snapshots from its next restart on each server (the drop-in is not read before).\n');
    }
    return 0;
  };
  if (!needCluster) return run(undefined);
  return withCluster(g, (conn) => run(conn.shells));
}

async function datastoreOf(inv: Inventory, shells: ReadonlyMap<string, Shell> | undefined): Promise<'sqlite' | 'etcd' | undefined> {
  const { backupSource, SERVER_DIR } = await import('../../backup/backup.js');
  const { Pct } = await import('../../proxmox/pct.js');
  const { source } = backupSource(inv);
  const shell = shells?.get(source.host);
  if (!shell) return undefined;
  const r = await new Pct(shell).exec(source.vmid, ['test', '-d', `${SERVER_DIR}/db/etcd`], { timeoutMs: 60_000 });
  return r.code === 0 ? 'etcd' : 'sqlite';
}

export async function scheduleList(g: GlobalOptions): Promise<number> {
  const sched = await import('../../backup/schedule.js');
  const inv = await loadInventoryFor(g);
  const { state } = await paths();
  const rec = readRecord(state, inv.cluster);
  if (!rec) {
    if (g.output !== 'table') await printDocument(g, { schedules: [] });
    else out(`No backup schedule for ${inv.cluster}. Add one: pve-k3s backup schedule --every daily --keep 7\n`);
    return 0;
  }
  const read = async (shells: ReadonlyMap<string, Shell> | undefined) => {
    const t = await targetFor(rec.on, shells);
    return sched.readTimerState(t, rec.cluster).then(
      (st) => ({ state: st, error: undefined as string | undefined }),
      (e: unknown) => ({ state: undefined, error: (e as Error).message }),
    );
  };
  const r = rec.on === 'local' ? await read(undefined) : await withCluster(g, (conn) => read(conn.shells));
  const timing = sched.scheduleTiming(rec, Date.now());
  const next = r.state?.next ?? timing.next;
  if (g.output !== 'table') {
    await printDocument(g, {
      schedules: [
        {
          ...rec,
          timer: r.state ?? null,
          nextRun: next === undefined ? null : new Date(next).toISOString(),
          error: r.error ?? null,
        },
      ],
    });
    return r.error ? 1 : 0;
  }
  const { renderTable } = await import('../table.js');
  const st = r.state;
  out(
    renderTable(
      ['CLUSTER', 'ON', 'EVERY', 'RETENTION', 'TIMER', 'NEXT RUN', 'LAST RUN', 'LAST RESULT'],
      [
        [
          rec.cluster,
          rec.on,
          rec.every,
          (await import('../../backup/retention.js')).describePolicy(rec.policy),
          st ? `${st.active ?? '?'}/${st.enabled ?? '?'}` : 'unknown',
          next === undefined ? '-' : new Date(next).toISOString(),
          st?.lastTrigger === undefined ? 'never' : new Date(st.lastTrigger).toISOString(),
          st?.result === undefined ? '-' : st.result === 'success' ? 'success' : `${st.result} (exit ${st.exitStatus ?? '?'})`,
        ],
      ],
    ),
  );
  if (rec.etcd) out(`k3s etcd snapshots: cron "${rec.etcd.cron}", retention ${rec.etcd.retention}, on ${rec.etcd.servers.join(', ')}\n`);
  if (r.error) out(`warning: ${r.error}\n`);
  else if (st && st.active !== 'active')
    out(`warning: the timer is ${st.active}: nothing runs. Reinstall it with pve-k3s backup schedule --every ${rec.every} ...\n`);
  return r.error ? 1 : 0;
}

export async function scheduleRemove(g: GlobalOptions, flags: { on?: string }): Promise<number> {
  const sched = await import('../../backup/schedule.js');
  const inv = await loadInventoryFor(g);
  const { state } = await paths();
  const rec = readRecord(state, inv.cluster);
  const on = flags.on ?? rec?.on ?? 'local';
  if (on !== 'local') hostOf(inv, on);
  const base = sched.unitBase(inv.cluster);
  const fallback: ScheduleRecord = {
    apiVersion: 'pve-k3s.io/v1',
    kind: 'BackupSchedule',
    cluster: inv.cluster,
    on,
    scope: on === 'local' ? 'user' : 'system',
    every: '',
    onCalendar: '',
    policy: {},
    backupRoot: '',
    inventory: on === 'local' ? inv.file : sched.inventoryPathOnHost(inv.cluster),
    unitDir: '',
    units: { service: `${base}.service`, timer: `${base}.timer` },
    etcd: null,
    installedAt: '',
  };
  const r = rec && rec.on === on ? rec : fallback;
  const go = async (shells: ReadonlyMap<string, Shell> | undefined) => {
    const t = await targetFor(on, shells);
    await sched.removeSchedule(r, t, {
      servers: inv.nodes.filter((n) => n.role === 'server'),
      shells: shells ?? new Map(),
      log: (l) => process.stderr.write(`${l}\n`),
    });
  };
  if (on === 'local' && !r.etcd) await go(undefined);
  else await withCluster(g, (conn) => go(conn.shells));
  if (rec && rec.on === on) rmSync(recordPath(state, inv.cluster), { force: true });
  out(`Removed the backup schedule of ${inv.cluster} on ${on === 'local' ? 'this machine' : on}.\n`);
  return 0;
}
