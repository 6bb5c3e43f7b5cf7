/** Prometheus text exposition (format 0.0.4) of the cluster's state; pure. */
import type { ClusterFacts } from '../domain/facts.js';
import type { Health } from './cluster-health.js';

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;
}

export interface MetricsInput {
  facts: ClusterFacts;
  health: Health;
  /** Target version (undefined when it could not be resolved). */
  target: string | undefined;
  probeSeconds: number;
  /** Expiry of k3s's certificates, when they could be read (openssl in the servers). */
  certs?: CertExpiry[];
}

export interface CertExpiry {
  node: string;
  /** File name, e.g. serving-kube-apiserver.crt. */
  cert: string;
  /** Epoch ms. */
  notAfter: number;
}

/** Every metric family pve-k3s exports (the monitoring kit checks its expressions against it). */
export const METRIC_NAMES = [
  'pve_k3s_node_up',
  'pve_k3s_node_ready',
  'pve_k3s_node_schedulable',
  'pve_k3s_node_cordoned_by_pve_k3s',
  'pve_k3s_node_info',
  'pve_k3s_upgrade_pending',
  'pve_k3s_upgrade_in_progress',
  'pve_k3s_upgrade_interrupted',
  'pve_k3s_last_backup_timestamp_seconds',
  'pve_k3s_backup_last_success_timestamp_seconds',
  'pve_k3s_backup_last_size_bytes',
  'pve_k3s_backup_last_run_timestamp_seconds',
  'pve_k3s_backup_last_run_success',
  'pve_k3s_backup_schedule_info',
  'pve_k3s_backup_schedule_interval_seconds',
  'pve_k3s_backup_next_run_timestamp_seconds',
  'pve_k3s_cert_expiry_timestamp_seconds',
  'pve_k3s_health',
  'pve_k3s_probe_success',
  'pve_k3s_probe_duration_seconds',
] as const;

/** `notAfter=Dec  1 19:53:34 2027 GMT` lines (openssl x509 -noout -enddate), each after `== <file>`. */
export function parseCertDates(node: string, stdout: string): CertExpiry[] {
  const out: CertExpiry[] = [];
  let cert: string | undefined;
  for (const line of stdout.split('\n')) {
    const f = /^== (.+)$/.exec(line);
    if (f) cert = (f[1] ?? '').split('/').pop();
    const m = /^notAfter=(.+)$/.exec(line.trim());
    if (m && cert) {
      const t = Date.parse((m[1] ?? '').replace(/ GMT$/, ' UTC'));
      if (Number.isFinite(t)) out.push({ node, cert, notAfter: t });
    }
  }
  return out;
}

export function renderMetrics(m: MetricsInput): string {
  const { facts, health } = m;
  const c = facts.cluster;
  const out: string[] = [];
  const family = (name: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [l, v] of samples) out.push(`${name}${labels(l)} ${Number.isFinite(v) ? String(v) : 'NaN'}`);
  };
  const node = (n: ClusterFacts['nodes'][number]) => ({ cluster: c, node: n.name, role: n.role, host: n.host, vmid: String(n.vmid) });
  family(
    'pve_k3s_node_up',
    "Whether the node's LXC container is running (1) or not (0).",
    facts.nodes.map((n) => [node(n), n.container === 'running' ? 1 : 0]),
  );
  family(
    'pve_k3s_node_ready',
    'Whether the node is Ready in Kubernetes.',
    facts.nodes.map((n) => [node(n), n.kube?.ready ? 1 : 0]),
  );
  family(
    'pve_k3s_node_schedulable',
    'Whether the node is schedulable (not cordoned).',
    facts.nodes.map((n) => [node(n), n.kube ? (n.kube.schedulable ? 1 : 0) : 0]),
  );
  family(
    'pve_k3s_node_cordoned_by_pve_k3s',
    'Whether the node carries the annotation pve-k3s puts on the nodes it cordons for an upgrade.',
    facts.nodes.map((n) => [node(n), n.kube?.cordonedByUs !== undefined ? 1 : 0]),
  );
  family(
    'pve_k3s_node_info',
    "The node's installed k3s and kubelet versions (always 1).",
    facts.nodes.map((n) => [{ ...node(n), installed: n.installed?.raw ?? '', kubelet: n.kube?.kubeletVersionRaw ?? '' }, 1]),
  );
  const pending = m.target === undefined ? NaN : facts.nodes.some((n) => n.installed?.raw !== m.target) ? 1 : 0;
  family('pve_k3s_upgrade_pending', 'Whether some node is not at the target version (NaN when the target is unknown).', [
    [{ cluster: c, target: m.target ?? '' }, pending],
  ]);
  family('pve_k3s_upgrade_in_progress', 'Whether the upgrade journal shows a run without an end.', [
    [{ cluster: c }, health.upgradeInProgress ? 1 : 0],
  ]);
  family('pve_k3s_upgrade_interrupted', 'Whether the last upgrade ended failed or stopped (pve-k3s resume continues it).', [
    [{ cluster: c }, health.upgradeInterrupted ? 1 : 0],
  ]);
  const b = health.backup;
  const secs = (ms: number | undefined) => (ms === undefined ? 0 : Math.floor(ms / 1000));
  family(
    'pve_k3s_last_backup_timestamp_seconds',
    'When the newest backup was made (Unix time; 0 when there is none). Same as pve_k3s_backup_last_success_timestamp_seconds.',
    [[{ cluster: c }, secs(health.lastBackup)]],
  );
  family('pve_k3s_backup_last_success_timestamp_seconds', 'When the last good backup was made (Unix time; 0 when there is none).', [
    [{ cluster: c }, secs(b.lastSuccess)],
  ]);
  family('pve_k3s_backup_last_size_bytes', 'Size of the last good backup (token and datastore; NaN when unknown).', [
    [{ cluster: c }, b.lastSizeBytes ?? NaN],
  ]);
  family(
    'pve_k3s_backup_last_run_timestamp_seconds',
    'When the last backup run ended, good or failed (Unix time; 0 when none is recorded).',
    [[{ cluster: c }, secs(b.lastRun?.at)]],
  );
  family('pve_k3s_backup_last_run_success', 'Whether the last backup run succeeded (NaN when none is recorded).', [
    [{ cluster: c }, b.lastRun === undefined ? NaN : b.lastRun.ok ? 1 : 0],
  ]);
  if (b.schedule) {
    const s = b.schedule;
    family('pve_k3s_backup_schedule_info', 'The backup schedule pve-k3s installed (always 1).', [
      [{ cluster: c, every: s.every, on_calendar: s.onCalendar, on: s.on, retention: s.retention }, 1],
    ]);
    family('pve_k3s_backup_schedule_interval_seconds', 'The longest gap between two scheduled backups.', [
      [{ cluster: c }, s.intervalMs === undefined ? NaN : s.intervalMs / 1000],
    ]);
    family('pve_k3s_backup_next_run_timestamp_seconds', 'When the next scheduled backup runs (Unix time).', [
      [{ cluster: c }, s.next === undefined ? NaN : Math.floor(s.next / 1000)],
    ]);
  }
  if (m.certs && m.certs.length > 0)
    family(
      'pve_k3s_cert_expiry_timestamp_seconds',
      "When a k3s server's certificate expires (Unix time; read with openssl in the container).",
      m.certs.map((x) => [{ cluster: c, node: x.node, cert: x.cert }, Math.floor(x.notAfter / 1000)]),
    );
  family('pve_k3s_health', 'Overall health: 0 ok, 1 warning, 2 critical.', [
    [{ cluster: c }, health.severity === 'ok' ? 0 : health.severity === 'warning' ? 1 : 2],
  ]);
  family('pve_k3s_probe_success', 'Whether every Proxmox host and kubectl answered the probe.', [
    [{ cluster: c }, Object.keys(facts.hostErrors).length === 0 && !facts.kubeError ? 1 : 0],
  ]);
  family('pve_k3s_probe_duration_seconds', 'How long the probe took.', [[{ cluster: c }, Math.round(m.probeSeconds * 1000) / 1000]]);
  return out.join('\n') + '\n';
}
