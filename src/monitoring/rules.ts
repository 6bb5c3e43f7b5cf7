/**
 * Prometheus alerting rules over the metrics `pve-k3s metrics --listen` serves. Data, pure:
 * rendered as a plain rules file (`rule_files:`) and as a prometheus-operator PrometheusRule.
 */

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string };
}

export interface RuleOptions {
  /** The scrape job's name (the `up` alert). @default "pve-k3s" */
  job?: string;
  /** Without a backup schedule: a backup older than this is too old (seconds). @default 7 days */
  backupMaxAgeSeconds?: number;
  /** Days before a certificate's expiry to warn. @default 30 */
  certWarnDays?: number;
}

export function alertRules(o: RuleOptions = {}): AlertRule[] {
  const job = o.job ?? 'pve-k3s';
  const maxAge = o.backupMaxAgeSeconds ?? 7 * 86_400;
  const certDays = o.certWarnDays ?? 30;
  const age = '(time() - pve_k3s_backup_last_success_timestamp_seconds)';
  return [
    {
      alert: 'PveK3sMetricsDown',
      expr: `up{job="${job}"} == 0`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'pve-k3s metrics cannot be scraped',
        description: 'Prometheus cannot reach `pve-k3s metrics --listen` at {{ $labels.instance }}: nothing below is being checked.',
      },
    },
    {
      alert: 'PveK3sProbeFailing',
      expr: 'pve_k3s_probe_success == 0',
      for: '10m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'pve-k3s cannot read cluster {{ $labels.cluster }}',
        description: 'A Proxmox host or kubectl on the controller does not answer pve-k3s; run `pve-k3s status` for which.',
      },
    },
    {
      alert: 'PveK3sNodeContainerDown',
      expr: 'pve_k3s_node_up == 0',
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'container {{ $labels.vmid }} of node {{ $labels.node }} is not running',
        description: 'The LXC container of {{ $labels.node }} on {{ $labels.host }} is stopped or missing (pct status {{ $labels.vmid }}).',
      },
    },
    {
      alert: 'PveK3sNodeNotReady',
      expr: 'pve_k3s_node_ready == 0 and on(cluster, node) pve_k3s_node_up == 1',
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'node {{ $labels.node }} is NotReady',
        description:
          'Its container runs but Kubernetes has not seen {{ $labels.node }} Ready for 5 minutes (pve-k3s doctor {{ $labels.node }}).',
      },
    },
    {
      alert: 'PveK3sVersionSkew',
      expr: 'count by (cluster) (count by (cluster, kubelet) (pve_k3s_node_info{kubelet!=""})) > 1 unless on(cluster) pve_k3s_upgrade_in_progress == 1',
      for: '30m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'cluster {{ $labels.cluster }} runs {{ $value }} kubelet versions',
        description:
          'Nodes run different versions and no upgrade is in progress: finish it with `pve-k3s upgrade` (pve-k3s status shows which nodes).',
      },
    },
    {
      alert: 'PveK3sNodeCordonedByUpgrade',
      expr: 'pve_k3s_node_cordoned_by_pve_k3s == 1',
      for: '1h',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'node {{ $labels.node }} has been cordoned by pve-k3s for over an hour',
        description:
          'An upgrade cordoned it and did not uncordon it: `pve-k3s resume` continues the upgrade, `pve-k3s abandon` lists what to uncordon.',
      },
    },
    {
      alert: 'PveK3sUpgradeStuck',
      expr: 'pve_k3s_upgrade_in_progress == 1',
      for: '2h',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'an upgrade of {{ $labels.cluster }} has been in progress for over 2 hours',
        description:
          'The journal shows a run without an end (or the cluster lock is held): the process may have died. `pve-k3s status` shows it; `pve-k3s resume` continues it.',
      },
    },
    {
      alert: 'PveK3sUpgradeInterrupted',
      expr: 'pve_k3s_upgrade_interrupted == 1',
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'the last upgrade of {{ $labels.cluster }} failed or was stopped',
        description: '`pve-k3s resume` continues it; `pve-k3s abandon` forgets it.',
      },
    },
    {
      alert: 'PveK3sBackupFailed',
      expr: 'pve_k3s_backup_last_run_success == 0',
      for: '0m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'the last backup of {{ $labels.cluster }} failed',
        description:
          '`pve-k3s status` shows the error; `journalctl -u pve-k3s-backup-{{ $labels.cluster }}` (with --user for a schedule on your machine) the whole run.',
      },
    },
    {
      alert: 'PveK3sBackupTooOld',
      expr: `${age} > on(cluster) 2 * pve_k3s_backup_schedule_interval_seconds`,
      for: '0m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'the last good backup of {{ $labels.cluster }} is older than two scheduled runs',
        description: 'The backup timer did not run or its runs fail: `pve-k3s backup schedule list`.',
      },
    },
    {
      alert: 'PveK3sBackupTooOldCritical',
      expr: `${age} > on(cluster) 4 * pve_k3s_backup_schedule_interval_seconds`,
      for: '0m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'the last good backup of {{ $labels.cluster }} is older than four scheduled runs',
        description: 'The backup timer did not run or its runs fail: `pve-k3s backup schedule list`.',
      },
    },
    {
      alert: 'PveK3sBackupMissing',
      expr: `(${age} > ${maxAge}) unless on(cluster) pve_k3s_backup_schedule_interval_seconds`,
      for: '0m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'no backup of {{ $labels.cluster }} for over ' + `${Math.round(maxAge / 86_400)} days, and no schedule`,
        description: 'Schedule one: `pve-k3s backup schedule --every daily --keep 7`.',
      },
    },
    {
      alert: 'PveK3sCertificateExpiring',
      expr: `pve_k3s_cert_expiry_timestamp_seconds - time() < ${certDays} * 86400`,
      for: '1h',
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.cert }} on {{ $labels.node }} expires within ' + `${certDays} days`,
        description:
          'k3s renews certificates expiring within 90 days when it starts: restart k3s on the node, or run `k3s certificate rotate`.',
      },
    },
    {
      alert: 'PveK3sCertificateExpiringCritical',
      expr: 'pve_k3s_cert_expiry_timestamp_seconds - time() < 7 * 86400',
      for: '1h',
      labels: { severity: 'critical' },
      annotations: {
        summary: '{{ $labels.cert }} on {{ $labels.node }} expires within 7 days',
        description:
          'k3s renews certificates expiring within 90 days when it starts: restart k3s on the node, or run `k3s certificate rotate`.',
      },
    },
  ];
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export function ruleGroups(o: RuleOptions = {}): RuleGroup[] {
  return [{ name: 'pve-k3s', rules: alertRules(o) }];
}

/** The PrometheusRule object (monitoring.coreos.com/v1) with the same groups. */
export function prometheusRule(o: RuleOptions & { namespace?: string; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'pve-k3s',
      namespace: o.namespace ?? 'monitoring',
      labels: { 'app.kubernetes.io/name': 'pve-k3s', ...(o.labels ?? {}) },
    },
    spec: { groups: ruleGroups(o) },
  };
}
