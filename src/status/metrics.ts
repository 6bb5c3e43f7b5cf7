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
  family('pve_k3s_last_backup_timestamp_seconds', 'When the newest backup was made (Unix time; 0 when there is none).', [
    [{ cluster: c }, health.lastBackup === undefined ? 0 : Math.floor(health.lastBackup / 1000)],
  ]);
  family('pve_k3s_health', 'Overall health: 0 ok, 1 warning, 2 critical.', [
    [{ cluster: c }, health.severity === 'ok' ? 0 : health.severity === 'warning' ? 1 : 2],
  ]);
  family('pve_k3s_probe_success', 'Whether every Proxmox host and kubectl answered the probe.', [
    [{ cluster: c }, Object.keys(facts.hostErrors).length === 0 && !facts.kubeError ? 1 : 0],
  ]);
  family('pve_k3s_probe_duration_seconds', 'How long the probe took.', [[{ cluster: c }, Math.round(m.probeSeconds * 1000) / 1000]]);
  return out.join('\n') + '\n';
}
