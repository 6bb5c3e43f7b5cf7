/**
 * The cluster's backup state for status, `status --check` and metrics: the last run and the
 * last good backup (from `<cluster>.status.json`, which every `pve-k3s backup` run writes
 * beside its backups), and the schedule (`<state dir>/schedules/<cluster>.json`, written by
 * `backup schedule`) with its expected interval and next run. Reads the JSON files directly so
 * status does not load the backup code; a schedule on a Proxmox host keeps its run record
 * there, read through the caller's `readRemote`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { longestInterval, nextElapse, parseCalendar } from '../systemd/calendar.js';

export interface BackupSchedule {
  every: string;
  onCalendar: string;
  /** `local` or a Proxmox host. */
  on: string;
  /** The longest gap between two runs (ms). */
  intervalMs: number | undefined;
  /** Epoch ms. */
  next: number | undefined;
  /** Where its backups go (on the machine that runs it). */
  backupRoot: string;
  installedAt: number | undefined;
  retention: string;
}

export interface BackupState {
  /** Epoch ms of the newest good backup. */
  lastSuccess: number | undefined;
  lastSizeBytes: number | undefined;
  lastRun: { at: number; ok: boolean; error: string | undefined } | undefined;
  schedule: BackupSchedule | undefined;
  /** Why the run record could not be read (a host schedule whose host did not answer). */
  readError: string | undefined;
}

export function scheduleFile(stateDirectory: string, cluster: string): string {
  return join(stateDirectory, 'schedules', `${cluster}.json`);
}

interface RunRecordJson {
  kind?: string;
  cluster?: string;
  lastRun?: { at?: string; ok?: boolean; error?: string };
  lastSuccess?: { at?: string; sizeBytes?: number };
}

interface ScheduleJson {
  kind?: string;
  cluster?: string;
  on?: string;
  every?: string;
  onCalendar?: string;
  backupRoot?: string;
  installedAt?: string;
  policy?: { last?: number; daily?: number; weekly?: number; monthly?: number };
}

function readJson<T>(file: string): T | undefined {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
  } catch {
    return undefined;
  }
}

export function readSchedule(stateDirectory: string, cluster: string, now: number): BackupSchedule | undefined {
  const j = readJson<ScheduleJson>(scheduleFile(stateDirectory, cluster));
  if (j?.kind !== 'BackupSchedule' || j.cluster !== cluster || !j.onCalendar) return undefined;
  let intervalMs: number | undefined;
  let next: number | undefined;
  try {
    const spec = parseCalendar(j.onCalendar);
    intervalMs = longestInterval(spec, now);
    next = nextElapse(spec, now);
  } catch {
    // an expression this version cannot read: no thresholds
  }
  const p = j.policy ?? {};
  const retention =
    [
      p.last !== undefined ? `last ${p.last}` : '',
      p.daily ? `${p.daily} daily` : '',
      p.weekly ? `${p.weekly} weekly` : '',
      p.monthly ? `${p.monthly} monthly` : '',
    ]
      .filter(Boolean)
      .join(', ') || 'keep all';
  return {
    every: j.every ?? j.onCalendar,
    onCalendar: j.onCalendar,
    on: j.on ?? 'local',
    intervalMs,
    next,
    backupRoot: j.backupRoot ?? '',
    installedAt: j.installedAt ? Date.parse(j.installedAt) : undefined,
    retention,
  };
}

export function parseRunRecord(text: string | undefined, cluster: string): Pick<BackupState, 'lastSuccess' | 'lastSizeBytes' | 'lastRun'> {
  let j: RunRecordJson | undefined;
  try {
    j = text === undefined ? undefined : (JSON.parse(text) as RunRecordJson);
  } catch {
    j = undefined;
  }
  if (j?.kind !== 'BackupStatus' || j.cluster !== cluster) return { lastSuccess: undefined, lastSizeBytes: undefined, lastRun: undefined };
  const at = (s: string | undefined) => (s ? Date.parse(s) : NaN);
  const ls = at(j.lastSuccess?.at);
  const lr = at(j.lastRun?.at);
  return {
    lastSuccess: Number.isFinite(ls) ? ls : undefined,
    lastSizeBytes: j.lastSuccess?.sizeBytes,
    lastRun: Number.isFinite(lr) ? { at: lr, ok: j.lastRun?.ok === true, error: j.lastRun?.error } : undefined,
  };
}

export interface BackupStateInput {
  stateDirectory: string;
  cluster: string;
  /** The default local backup root (`<state dir>/backups/<cluster>`). */
  localRoot: string;
  /** The newest local backup found by listing (for backups made before run records existed). */
  newestLocal: number | undefined;
  /** Reads a file on a Proxmox host (a host schedule's run record); undefined when absent. */
  readRemote?: (host: string, path: string) => Promise<string | undefined>;
  now?: number;
}

export async function readBackupState(i: BackupStateInput): Promise<BackupState> {
  const now = i.now ?? Date.now();
  const schedule = readSchedule(i.stateDirectory, i.cluster, now);
  let readError: string | undefined;
  let text: string | undefined;
  const recordName = `${i.cluster}.status.json`;
  if (schedule && schedule.on !== 'local') {
    try {
      text = i.readRemote ? await i.readRemote(schedule.on, `${schedule.backupRoot}/${recordName}`) : undefined;
    } catch (e) {
      readError = `cannot read the backup record on ${schedule.on}: ${(e as Error).message}`;
    }
  } else {
    const root = schedule?.backupRoot || i.localRoot;
    const file = join(root, recordName);
    text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }
  const rec = parseRunRecord(text, i.cluster);
  const good = [rec.lastSuccess, i.newestLocal].filter((x): x is number => x !== undefined);
  const lastSuccess = good.length ? Math.max(...good) : undefined;
  return { ...rec, lastSuccess, schedule, readError };
}
