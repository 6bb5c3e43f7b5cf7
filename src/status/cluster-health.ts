/**
 * The cluster's health in one verdict (ok / warning / critical) with its reasons, from facts
 * already gathered, the newest backup and the upgrade journal. Pure; status, `status --check`
 * and metrics share it.
 */
import type { ClusterFacts } from '../domain/facts.js';
import type { UpgradeState } from './upgrade-state.js';
import type { BackupState } from './backup-state.js';

export type Severity = 'ok' | 'warning' | 'critical';

export interface HealthItem {
  severity: Exclude<Severity, 'ok'>;
  text: string;
}

export interface Health {
  severity: Severity;
  items: HealthItem[];
  nodes: number;
  ready: number;
  lastBackup: number | undefined;
  upgradeInProgress: boolean;
  upgradeInterrupted: boolean;
  backup: BackupState;
}

/** Without a schedule, a backup older than this is a warning. @default 7 days */
export const BACKUP_MAX_AGE_MS = 7 * 86_400_000;

export function noBackupState(lastSuccess: number | undefined): BackupState {
  return { lastSuccess, lastSizeBytes: undefined, lastRun: undefined, schedule: undefined, readError: undefined };
}

/**
 * The backup items: with a schedule, WARNING when the last good backup is older than twice its
 * interval, CRITICAL at four times or when the last run failed; without one, WARNING when
 * there is none, it is older than 7 days, or the last run failed.
 */
export function backupItems(b: BackupState, now: number): HealthItem[] {
  const items: HealthItem[] = [];
  const s = b.schedule;
  const failed = b.lastRun !== undefined && !b.lastRun.ok && (b.lastSuccess === undefined || b.lastRun.at >= b.lastSuccess);
  if (failed && b.lastRun)
    items.push({
      severity: s ? 'critical' : 'warning',
      text: `last backup failed ${age(now - b.lastRun.at)} ago${b.lastRun.error ? `: ${b.lastRun.error.slice(0, 200)}` : ''}`,
    });
  if (b.readError) items.push({ severity: 'warning', text: b.readError });
  if (s?.intervalMs !== undefined) {
    const since = b.lastSuccess ?? s.installedAt;
    const overdue = since === undefined ? 0 : (now - since) / s.intervalMs;
    const what =
      b.lastSuccess === undefined
        ? `no backup since the ${s.every} schedule was installed`
        : `last good backup ${age(now - b.lastSuccess)} ago`;
    if (overdue > 4 && !failed) items.push({ severity: 'critical', text: `${what} (schedule ${s.every}: over 4 runs missed)` });
    else if (overdue > 2 && !failed) items.push({ severity: 'warning', text: `${what} (schedule ${s.every}: over 2 runs missed)` });
    return items;
  }
  if (failed) return items;
  if (b.lastSuccess === undefined) items.push({ severity: 'warning', text: 'no backup' });
  else if (now - b.lastSuccess > BACKUP_MAX_AGE_MS)
    items.push({ severity: 'warning', text: `last backup ${age(now - b.lastSuccess)} ago` });
  return items;
}

export interface HealthInput {
  facts: ClusterFacts;
  /** The backup state, or only the time of the last backup (epoch ms). */
  backup: BackupState | number | undefined;
  upgrade: UpgradeState;
  /** @default Date.now() */
  now?: number;
}

export function assessHealth(input: HealthInput): Health {
  const { facts, backup, upgrade, now = Date.now() } = input;
  const b = typeof backup === 'object' ? backup : noBackupState(backup);
  const items: HealthItem[] = [];
  for (const [h, e] of Object.entries(facts.hostErrors)) items.push({ severity: 'critical', text: `host ${h} unreachable: ${e}` });
  if (facts.kubeError) items.push({ severity: 'critical', text: `kubectl on ${facts.controller} failed` });
  const stopped = facts.nodes.filter((n) => n.container === 'stopped' || n.container === 'missing');
  if (stopped.length) items.push({ severity: 'critical', text: `container ${stopped.map((n) => `${n.name} ${n.container}`).join(', ')}` });
  const notReady = facts.nodes.filter((n) => n.kube && !n.kube.ready);
  if (notReady.length) items.push({ severity: 'critical', text: `${notReady.map((n) => n.name).join(', ')} NotReady` });
  const unregistered = facts.kubeError ? [] : facts.nodes.filter((n) => n.container === 'running' && !n.kube);
  if (unregistered.length)
    items.push({ severity: 'critical', text: `${unregistered.map((n) => n.name).join(', ')} not registered in the cluster` });
  const cordoned = facts.nodes.filter((n) => n.kube && !n.kube.schedulable);
  if (cordoned.length)
    items.push({
      severity: 'warning',
      text: `${cordoned.map((n) => `${n.name}${n.kube?.cordonedByUs !== undefined ? ' (by pve-k3s)' : ''}`).join(', ')} cordoned`,
    });
  const versions = [...new Set(facts.nodes.map((n) => n.kube?.kubeletVersionRaw ?? n.installed?.raw).filter((v): v is string => !!v))];
  if (versions.length > 1) items.push({ severity: 'warning', text: `version skew: ${versions.join(', ')}` });
  const op = upgrade.operation ?? 'upgrade';
  if (upgrade.inProgress)
    items.push({ severity: 'warning', text: `${op} in progress${op === 'upgrade' && upgrade.target ? ` to ${upgrade.target}` : ''}` });
  else if (upgrade.interrupted)
    items.push({
      severity: 'warning',
      text:
        op === 'upgrade'
          ? `last upgrade ${upgrade.status} (pve-k3s upgrade resumes it)`
          : `last ${op} ${upgrade.status} (run it again, or close it with pve-k3s abandon)`,
    });
  items.push(...backupItems(b, now));
  const severity: Severity = items.some((i) => i.severity === 'critical') ? 'critical' : items.length ? 'warning' : 'ok';
  return {
    severity,
    items,
    nodes: facts.nodes.length,
    ready: facts.nodes.filter((n) => n.kube?.ready).length,
    lastBackup: b.lastSuccess,
    upgradeInProgress: upgrade.inProgress,
    upgradeInterrupted: upgrade.interrupted,
    backup: b,
  };
}

export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** One Nagios plugin line: `K3S OK - ... | perfdata`. Exit: 0 ok, 1 warning, 2 critical. */
export function checkLine(cluster: string, h: Health, now = Date.now()): { line: string; code: 0 | 1 | 2 } {
  const word = h.severity === 'ok' ? 'OK' : h.severity === 'warning' ? 'WARNING' : 'CRITICAL';
  const backup = h.lastBackup === undefined ? 'no backup' : `last backup ${age(now - h.lastBackup)} ago`;
  const text = h.items.length ? h.items.map((i) => i.text).join('; ') : `${h.ready}/${h.nodes} nodes Ready, ${backup}`;
  const perf = `nodes=${h.nodes} ready=${h.ready}${h.lastBackup !== undefined ? ` backup_age=${Math.round((now - h.lastBackup) / 1000)}s` : ''}${h.backup.schedule?.intervalMs !== undefined ? ` backup_interval=${Math.round(h.backup.schedule.intervalMs / 1000)}s` : ''}`;
  return { line: `K3S ${word} - ${cluster}: ${text} | ${perf}`, code: h.severity === 'ok' ? 0 : h.severity === 'warning' ? 1 : 2 };
}
