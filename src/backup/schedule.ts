/**
 * `backup schedule`: a systemd timer and a oneshot service that run `pve-k3s backup` with the
 * inventory, as user units on the operator's machine (`systemctl --user`) or as system units on
 * a Proxmox host. Missed runs catch up (Persistent=true); the output goes to the journal. For
 * embedded etcd, k3s's own schedule can be used as well: a config drop-in on every server
 * (`etcd-snapshot-schedule-cron`, `etcd-snapshot-retention`, read at k3s's next start) and the
 * timer then pulls the newest of those snapshots and the token.
 *
 * Unit files, the plan and the record are pure; install/list/remove run through a Shell (the
 * local one, an SSH one, or the lab's), so every path is the same code.
 */
import { UsageError, RunError, invariant } from '../domain/errors.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { quoteArg } from '../shell/quote.js';
import type { Shell } from '../shell/shell.js';
import { longestInterval, nextElapse, parseCalendar, toCron, CalendarError, type CalendarSpec } from '../systemd/calendar.js';
import { execLine, renderUnitFile, unitValue } from '../systemd/unit.js';
import { Pct } from '../proxmox/pct.js';
import { BACKUP_API_VERSION } from './store.js';
import { describePolicy, type RetentionPolicy } from './retention.js';

export const ETCD_DROPIN = '/etc/rancher/k3s/config.yaml.d/50-pve-k3s-etcd-snapshot.yaml';
export const HOST_INVENTORY_DIR = '/etc/pve-k3s';
export const HOST_STATE_HOME = '/var/lib';
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';
/** With k3s taking the etcd snapshots at the scheduled time, the pull waits this long for it. */
export const SNAPSHOT_PULL_DELAY_S = 300;

export type Scope = 'user' | 'system';

export interface ScheduleSpec {
  cluster: string;
  /** What the user asked for: daily, hourly, or an OnCalendar expression. */
  every: string;
  calendar: CalendarSpec;
  policy: RetentionPolicy;
  /** `local` or the Proxmox host that runs the timer. */
  on: string;
  scope: Scope;
  /** The argv that runs pve-k3s on that machine. */
  program: string[];
  /** The inventory as that machine reads it. */
  inventory: string;
  /** Where the backups go on that machine. */
  backupRoot: string;
  /** Other `pve-k3s backup` flags passed through (--offline, --vzdump..., --copy-to). */
  backupArgs: string[];
  /** k3s's own etcd snapshot schedule on every server. */
  etcd?: { cron: string; retention: number; servers: string[] } | undefined;
}

export function unitBase(cluster: string): string {
  return `pve-k3s-backup-${cluster}`;
}

/** `--every daily|hourly|<OnCalendar>`. */
export function parseEvery(every: string): CalendarSpec {
  try {
    return parseCalendar(every);
  } catch (e) {
    if (e instanceof CalendarError)
      throw new UsageError(`--every ${every}: ${e.message}`, {
        hint: 'use daily, hourly, or a systemd OnCalendar expression such as "*-*-* 02:30:00" or "Mon..Fri 01:00"',
      });
    throw e;
  }
}

function retentionArgs(p: RetentionPolicy): string[] {
  return [
    ...(p.last !== undefined ? ['--keep', String(p.last)] : []),
    ...(p.daily !== undefined ? ['--keep-daily', String(p.daily)] : []),
    ...(p.weekly !== undefined ? ['--keep-weekly', String(p.weekly)] : []),
    ...(p.monthly !== undefined ? ['--keep-monthly', String(p.monthly)] : []),
  ];
}

/** The argv the service runs. */
export function backupArgv(s: ScheduleSpec): string[] {
  return [
    ...s.program,
    'backup',
    '--config',
    s.inventory,
    '--to',
    s.backupRoot,
    ...retentionArgs(s.policy),
    ...(s.etcd ? ['--latest-snapshot'] : []),
    ...s.backupArgs,
  ];
}

const HEADER = (s: ScheduleSpec) =>
  `Written by pve-k3s backup schedule for cluster ${s.cluster}.\nRemove with: pve-k3s backup schedule remove${s.on === 'local' ? '' : ` --on ${s.on}`}`;

export function renderService(s: ScheduleSpec): string {
  const unit: Array<[string, string]> = [['Description', unitValue(`pve-k3s backup of cluster ${s.cluster}`)]];
  if (s.scope === 'system') unit.push(['Wants', 'network-online.target'], ['After', 'network-online.target']);
  const service: Array<[string, string]> = [
    ['Type', 'oneshot'],
    ['Environment', 'NO_COLOR=1'],
    ...(s.scope === 'system' ? ([['Environment', `XDG_STATE_HOME=${HOST_STATE_HOME}`]] as Array<[string, string]>) : []),
    ...(s.etcd ? ([['ExecStartPre', `/bin/sleep ${SNAPSHOT_PULL_DELAY_S}`]] as Array<[string, string]>) : []),
    ['ExecStart', execLine(backupArgv(s))],
    ['TimeoutStartSec', '6h'],
    ['Nice', '10'],
    ['IOSchedulingClass', 'idle'],
    ['SyslogIdentifier', unitBase(s.cluster)],
  ];
  return renderUnitFile(HEADER(s), [
    ['Unit', unit],
    ['Service', service],
  ]);
}

export function renderTimer(s: ScheduleSpec): string {
  return renderUnitFile(HEADER(s), [
    ['Unit', [['Description', unitValue(`pve-k3s backup of cluster ${s.cluster}: ${s.every}, ${describePolicy(s.policy)}`)]]],
    [
      'Timer',
      [
        ['OnCalendar', `${s.calendar.normalized} UTC`],
        ['Persistent', 'true'],
        ['AccuracySec', '1min'],
        ['Unit', `${unitBase(s.cluster)}.service`],
      ],
    ],
    ['Install', [['WantedBy', 'timers.target']]],
  ]);
}

export function renderEtcdDropin(s: ScheduleSpec): string {
  invariant(s.etcd, 'renderEtcdDropin needs an etcd schedule');
  return [
    `# Written by pve-k3s backup schedule for cluster ${s.cluster}; k3s reads it at its next start.`,
    `# Remove with: pve-k3s backup schedule remove${s.on === 'local' ? '' : ` --on ${s.on}`}`,
    `etcd-snapshot-schedule-cron: ${JSON.stringify(s.etcd.cron)}`,
    `etcd-snapshot-retention: ${s.etcd.retention}`,
    '',
  ].join('\n');
}

/** The schedule as recorded on the operator's machine (`<state dir>/schedules/<cluster>.json`): status and metrics read it. */
export interface ScheduleRecord {
  apiVersion: typeof BACKUP_API_VERSION;
  kind: 'BackupSchedule';
  cluster: string;
  on: string;
  scope: Scope;
  every: string;
  onCalendar: string;
  policy: RetentionPolicy;
  backupRoot: string;
  inventory: string;
  unitDir: string;
  units: { service: string; timer: string };
  etcd: ScheduleSpec['etcd'] | null;
  installedAt: string;
}

export function scheduleRecord(s: ScheduleSpec, unitDir: string, now: Date): ScheduleRecord {
  return {
    apiVersion: BACKUP_API_VERSION,
    kind: 'BackupSchedule',
    cluster: s.cluster,
    on: s.on,
    scope: s.scope,
    every: s.every,
    onCalendar: `${s.calendar.normalized} UTC`,
    policy: s.policy,
    backupRoot: s.backupRoot,
    inventory: s.inventory,
    unitDir,
    units: { service: `${unitBase(s.cluster)}.service`, timer: `${unitBase(s.cluster)}.timer` },
    etcd: s.etcd ?? null,
    installedAt: now.toISOString(),
  };
}

/** The expected interval between runs and the next run, from the record alone (no round trip). */
export function scheduleTiming(
  rec: Pick<ScheduleRecord, 'onCalendar'>,
  now: number,
): { intervalMs: number | undefined; next: number | undefined } {
  try {
    const spec = parseCalendar(rec.onCalendar);
    return { intervalMs: longestInterval(spec, now), next: nextElapse(spec, now) };
  } catch {
    return { intervalMs: undefined, next: undefined };
  }
}

/** k3s's cron for the same schedule, or a usage error naming the way out. */
export function etcdCron(spec: CalendarSpec, every: string, override: string | undefined): string {
  if (override !== undefined) {
    if (!/^(\S+\s+){4}\S+$/.test(override.trim()))
      throw new UsageError(`--etcd-cron ${override}: a cron expression has five fields (minute hour day month weekday)`);
    return override.trim();
  }
  const c = toCron(spec);
  if (!c)
    throw new UsageError(`--every ${every} has no cron equivalent for k3s's etcd-snapshot-schedule-cron`, {
      hint: 'pass --etcd-cron "M H D M W" too',
    });
  return c;
}

// ---- plans and effects ----

export interface ScheduleTarget {
  shell: Shell;
  scope: Scope;
  unitDir: string;
}

export interface PlanStep {
  where: string;
  text: string;
}

export function installPlan(s: ScheduleSpec, t: ScheduleTarget, servers: NodeSpec[]): PlanStep[] {
  const where = s.on === 'local' ? 'this machine' : s.on;
  const sc = s.scope === 'user' ? 'systemctl --user' : 'systemctl';
  const b = unitBase(s.cluster);
  const steps: PlanStep[] = [];
  if (s.on !== 'local') steps.push({ where, text: `write the inventory to ${s.inventory} (0600; this host reached as local: true)` });
  steps.push(
    { where, text: `write ${t.unitDir}/${b}.service (runs: ${backupArgv(s).join(' ')})` },
    { where, text: `write ${t.unitDir}/${b}.timer (OnCalendar=${s.calendar.normalized} UTC, Persistent=true)` },
    { where, text: `${sc} daemon-reload; ${sc} enable --now ${b}.timer` },
  );
  for (const n of servers.filter((x) => s.etcd?.servers.includes(x.name)))
    steps.push({
      where: n.name,
      text: `write ${ETCD_DROPIN} (etcd-snapshot-schedule-cron: "${s.etcd?.cron}", etcd-snapshot-retention: ${s.etcd?.retention}); k3s applies it at its next restart, pve-k3s does not restart it`,
    });
  return steps;
}

function systemctl(t: ScheduleTarget, ...args: string[]): string[] {
  return ['systemctl', ...(t.scope === 'user' ? ['--user'] : []), ...args];
}

/** Runs `argv`; `what` failed on `where` (a host, or this machine) is the error when it fails. */
async function must(
  shell: Shell,
  argv: string[],
  { what, where, stdin }: { what: string; where: string; stdin?: string },
): Promise<string> {
  const r = await shell.run(argv, { timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });
  if (r.code !== 0) {
    const msg = lastLine(r.stderr || r.stdout);
    throw new RunError(`${where}: ${what} failed (exit ${r.code}): ${msg}`, {
      step: 'backup schedule',
      ...(r.code === 127 ? { hint: `${argv[0]} is not installed on ${where}` } : {}),
    });
  }
  return r.stdout;
}

/** Writes a file through the shell (content on stdin), creating its directory. */
export async function writeThrough(
  shell: Shell,
  { path, content, mode }: { path: string; content: string; mode: '644' | '600' },
  where: string,
): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  await must(shell, ['sh', '-c', 'mkdir -p "$1" && cat > "$2.tmp" && chmod "$3" "$2.tmp" && mv "$2.tmp" "$2"', 'sh', dir, path, mode], {
    what: `writing ${path}`,
    where,
    stdin: content,
  });
}

export interface InstallInput {
  spec: ScheduleSpec;
  target: ScheduleTarget;
  /** The inventory text to write on a host (undefined for local). */
  hostInventory?: string | undefined;
  servers: NodeSpec[];
  shells: ReadonlyMap<string, Shell>;
  log?: (l: string) => void;
}

export async function installSchedule(i: InstallInput): Promise<void> {
  const { spec: s, target: t } = i;
  const log = i.log ?? (() => {});
  const where = s.on === 'local' ? 'this machine' : s.on;
  const b = unitBase(s.cluster);
  if (s.on !== 'local') {
    const prog = s.program[0] ?? '';
    const r = await t.shell.run(['test', '-x', prog], { timeoutMs: 30_000 });
    if (r.code !== 0)
      throw new RunError(`${s.on}: ${prog} is not installed there, so the timer would have nothing to run`, {
        step: 'backup schedule',
        hint: `install pve-k3s on ${s.on} (npm install -g pve-k3s) or pass --program with its path there`,
      });
    if (i.hostInventory !== undefined) {
      await writeThrough(t.shell, { path: s.inventory, content: i.hostInventory, mode: '600' }, where);
      log(`${where}: wrote ${s.inventory}`);
    }
  }
  await writeThrough(t.shell, { path: `${t.unitDir}/${b}.service`, content: renderService(s), mode: '644' }, where);
  await writeThrough(t.shell, { path: `${t.unitDir}/${b}.timer`, content: renderTimer(s), mode: '644' }, where);
  log(`${where}: wrote ${t.unitDir}/${b}.service and ${b}.timer`);
  await must(t.shell, systemctl(t, 'daemon-reload'), { what: 'systemctl daemon-reload', where });
  await must(t.shell, systemctl(t, 'enable', '--now', `${b}.timer`), { what: `systemctl enable --now ${b}.timer`, where });
  log(`${where}: ${b}.timer enabled and started`);
  if (s.etcd) {
    for (const n of i.servers.filter((x) => s.etcd?.servers.includes(x.name))) {
      const shell = i.shells.get(n.host);
      invariant(shell, `no shell for host ${n.host}`);
      const r = await new Pct(shell).exec(
        n.vmid,
        ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod 600 "$1"', 'sh', ETCD_DROPIN],
        { stdin: renderEtcdDropin(s), timeoutMs: 60_000 },
      );
      if (r.code !== 0)
        throw new RunError(`${n.name}: writing ${ETCD_DROPIN} failed (exit ${r.code}): ${lastLine(r.stderr)}`, {
          node: n.name,
          step: 'backup schedule',
        });
      log(`${n.name}: wrote ${ETCD_DROPIN} (k3s applies it at its next restart)`);
    }
  }
}

export interface TimerState {
  active: string | undefined;
  enabled: string | undefined;
  /** Epoch ms. */
  next: number | undefined;
  lastTrigger: number | undefined;
  /** The service's last result (`success`, `exit-code`, ...) and exit status. */
  result: string | undefined;
  exitStatus: number | undefined;
}

/** `systemctl show --timestamp=unix` blocks (one per unit, blank-line separated) into the timer's state. */
export function parseShow(stdout: string): TimerState {
  const blocks = stdout.split(/\n\s*\n/).map((b) => {
    const m = new Map<string, string>();
    for (const l of b.split('\n')) {
      const i = l.indexOf('=');
      if (i > 0) m.set(l.slice(0, i), l.slice(i + 1));
    }
    return m;
  });
  const timer = blocks.find((b) => b.get('Id')?.endsWith('.timer')) ?? new Map<string, string>();
  const service = blocks.find((b) => b.get('Id')?.endsWith('.service')) ?? new Map<string, string>();
  const ts = (v: string | undefined) => {
    const m = /^@(\d+)$/.exec(v ?? '');
    return m && m[1] !== '0' ? Number(m[1]) * 1000 : undefined;
  };
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  return {
    active: timer.get('ActiveState'),
    enabled: timer.get('UnitFileState'),
    next: ts(timer.get('NextElapseUSecRealtime')),
    lastTrigger: ts(timer.get('LastTriggerUSec')),
    result: service.get('Result'),
    exitStatus: num(service.get('ExecMainStatus')),
  };
}

export async function readTimerState(t: ScheduleTarget, cluster: string): Promise<TimerState> {
  const b = unitBase(cluster);
  const r = await t.shell.run(
    systemctl(
      t,
      'show',
      '--timestamp=unix',
      '-p',
      'Id,ActiveState,UnitFileState,NextElapseUSecRealtime,LastTriggerUSec,Result,ExecMainStatus',
      `${b}.timer`,
      `${b}.service`,
    ),
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0)
    throw new RunError(`systemctl show ${b}.timer failed (exit ${r.code}): ${lastLine(r.stderr)}`, { step: 'backup schedule' });
  return parseShow(r.stdout);
}

/** Removes the schedule `rec` from `t`, and its etcd drop-in from `servers` (reached through `shells`). */
export async function removeSchedule(
  rec: ScheduleRecord,
  t: ScheduleTarget,
  { servers, shells, log = () => {} }: { servers: NodeSpec[]; shells: ReadonlyMap<string, Shell>; log?: (l: string) => void },
): Promise<void> {
  const where = rec.on === 'local' ? 'this machine' : rec.on;
  const b = unitBase(rec.cluster);
  // disable fails on a unit that is already gone: the files are removed either way.
  await t.shell.run(systemctl(t, 'disable', '--now', `${b}.timer`), { timeoutMs: 60_000 });
  await must(t.shell, ['rm', '-f', `${t.unitDir}/${b}.timer`, `${t.unitDir}/${b}.service`], { what: 'removing the unit files', where });
  await must(t.shell, systemctl(t, 'daemon-reload'), { what: 'systemctl daemon-reload', where });
  log(`${where}: ${b}.timer stopped, disabled and removed`);
  if (rec.on !== 'local' && rec.inventory.startsWith(`${HOST_INVENTORY_DIR}/`))
    await t.shell.run(['rm', '-f', rec.inventory], { timeoutMs: 30_000 });
  for (const n of servers.filter((x) => rec.etcd?.servers.includes(x.name))) {
    const shell = shells.get(n.host);
    if (!shell) continue;
    const r = await new Pct(shell).exec(n.vmid, ['rm', '-f', ETCD_DROPIN], { timeoutMs: 60_000 });
    if (r.code === 0) log(`${n.name}: removed ${ETCD_DROPIN} (k3s stops its own snapshots at its next restart)`);
    else log(`${n.name}: could not remove ${ETCD_DROPIN}: ${lastLine(r.stderr)}`);
  }
}

/** The inventory as a Proxmox host reads it: that host becomes `local: true`, the others keep their SSH destinations. */
export function hostInventory(inv: Inventory, host: string): Inventory {
  return { ...inv, hosts: inv.hosts.map((h) => (h.name === host && h.access.kind === 'ssh' ? { ...h, access: { kind: 'local' } } : h)) };
}

export function inventoryPathOnHost(cluster: string): string {
  return `${HOST_INVENTORY_DIR}/${cluster}.yaml`;
}

export function quoteForDisplay(argv: string[]): string {
  return argv.map(quoteArg).join(' ');
}

function lastLine(s: string): string {
  const l = s.trim().split('\n').filter(Boolean);
  return (l[l.length - 1] ?? '(no output)').slice(0, 300);
}
