/**
 * A Grafana dashboard (JSON model, schemaVersion 39) for the pve-k3s metrics: health, nodes,
 * versions, upgrades, backups and their schedule, certificates. Pure data; the datasource and the
 * cluster are dashboard variables.
 */

interface Target {
  expr: string;
  legendFormat?: string;
  refId: string;
  instant?: boolean;
  format?: 'table' | 'time_series';
}

interface Panel {
  id: number;
  type: 'stat' | 'timeseries' | 'table';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: 'prometheus'; uid: '${datasource}' };
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
  transformations?: unknown[];
}

const C = 'cluster="$cluster"';

export function dashboard(): Record<string, unknown> {
  let id = 0;
  const ds = { type: 'prometheus' as const, uid: '${datasource}' as const };
  const panel = ({
    type,
    title,
    gridPos,
    targets,
    defaults = {},
    extra = {},
  }: {
    type: Panel['type'];
    title: string;
    gridPos: Panel['gridPos'];
    targets: Array<Omit<Target, 'refId'>>;
    /** The panel's fieldConfig.defaults (unit, thresholds, mappings). */
    defaults?: Record<string, unknown>;
    extra?: Partial<Panel>;
  }): Panel => ({
    id: ++id,
    type,
    title,
    gridPos,
    datasource: ds,
    targets: targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i) })),
    fieldConfig: { defaults, overrides: [] },
    ...extra,
  });
  const thresholds = (steps: Array<[number | null, string]>) => ({
    mode: 'absolute',
    steps: steps.map(([value, color]) => ({ value, color })),
  });
  const panels: Panel[] = [
    panel({
      type: 'stat',
      title: 'Health',
      gridPos: { x: 0, y: 0, w: 4, h: 4 },
      targets: [{ expr: `pve_k3s_health{${C}}`, instant: true }],
      defaults: {
        mappings: [{ type: 'value', options: { '0': { text: 'OK' }, '1': { text: 'WARNING' }, '2': { text: 'CRITICAL' } } }],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'orange'],
          [2, 'red'],
        ]),
      },
    }),
    panel({
      type: 'stat',
      title: 'Nodes Ready',
      gridPos: { x: 4, y: 0, w: 4, h: 4 },
      targets: [
        { expr: `sum(pve_k3s_node_ready{${C}})`, legendFormat: 'Ready', instant: true },
        { expr: `count(pve_k3s_node_ready{${C}})`, legendFormat: 'nodes', instant: true },
      ],
    }),
    panel({
      type: 'stat',
      title: 'Last good backup',
      gridPos: { x: 8, y: 0, w: 4, h: 4 },
      targets: [{ expr: `time() - pve_k3s_backup_last_success_timestamp_seconds{${C}}`, instant: true }],
      defaults: {
        unit: 's',
        thresholds: thresholds([
          [null, 'green'],
          [172800, 'orange'],
          [604800, 'red'],
        ]),
      },
    }),
    panel({
      type: 'stat',
      title: 'Last backup run',
      gridPos: { x: 12, y: 0, w: 4, h: 4 },
      targets: [{ expr: `pve_k3s_backup_last_run_success{${C}}`, instant: true }],
      defaults: {
        mappings: [{ type: 'value', options: { '0': { text: 'FAILED', color: 'red' }, '1': { text: 'OK', color: 'green' } } }],
      },
    }),
    panel({
      type: 'stat',
      title: 'Next scheduled backup',
      gridPos: { x: 16, y: 0, w: 4, h: 4 },
      targets: [{ expr: `pve_k3s_backup_next_run_timestamp_seconds{${C}} * 1000`, instant: true }],
      defaults: { unit: 'dateTimeFromNow' },
    }),
    panel({
      type: 'stat',
      title: 'Upgrade',
      gridPos: { x: 20, y: 0, w: 4, h: 4 },
      targets: [
        { expr: `pve_k3s_upgrade_in_progress{${C}}`, legendFormat: 'in progress', instant: true },
        { expr: `pve_k3s_upgrade_pending{${C}}`, legendFormat: 'pending', instant: true },
      ],
    }),
    panel({
      type: 'timeseries',
      title: 'Nodes Ready, up and schedulable',
      gridPos: { x: 0, y: 4, w: 12, h: 8 },
      targets: [
        { expr: `sum(pve_k3s_node_ready{${C}})`, legendFormat: 'Ready' },
        { expr: `sum(pve_k3s_node_up{${C}})`, legendFormat: 'container running' },
        { expr: `sum(pve_k3s_node_schedulable{${C}})`, legendFormat: 'schedulable' },
        { expr: `sum(pve_k3s_node_cordoned_by_pve_k3s{${C}})`, legendFormat: 'cordoned by pve-k3s' },
      ],
    }),
    panel({
      type: 'table',
      title: 'Nodes and versions',
      gridPos: { x: 12, y: 4, w: 12, h: 8 },
      targets: [{ expr: `pve_k3s_node_info{${C}}`, format: 'table', instant: true }],
      extra: {
        transformations: [
          { id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true, instance: true } } },
        ],
      },
    }),
    panel({
      type: 'timeseries',
      title: 'Backup age and schedule',
      gridPos: { x: 0, y: 12, w: 12, h: 8 },
      targets: [
        { expr: `time() - pve_k3s_backup_last_success_timestamp_seconds{${C}}`, legendFormat: 'age of the last good backup' },
        { expr: `2 * pve_k3s_backup_schedule_interval_seconds{${C}}`, legendFormat: 'warning (2 runs missed)' },
        { expr: `4 * pve_k3s_backup_schedule_interval_seconds{${C}}`, legendFormat: 'critical (4 runs missed)' },
      ],
      defaults: { unit: 's' },
    }),
    panel({
      type: 'timeseries',
      title: 'Backup size',
      gridPos: { x: 12, y: 12, w: 12, h: 8 },
      targets: [{ expr: `pve_k3s_backup_last_size_bytes{${C}}`, legendFormat: 'last good backup' }],
      defaults: { unit: 'bytes' },
    }),
    panel({
      type: 'table',
      title: 'Backup schedule',
      gridPos: { x: 0, y: 20, w: 12, h: 5 },
      targets: [{ expr: `pve_k3s_backup_schedule_info{${C}}`, format: 'table', instant: true }],
      extra: {
        transformations: [
          { id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true, instance: true } } },
        ],
      },
    }),
    panel({
      type: 'table',
      title: 'Certificates: days left',
      gridPos: { x: 12, y: 20, w: 12, h: 5 },
      targets: [{ expr: `(pve_k3s_cert_expiry_timestamp_seconds{${C}} - time()) / 86400`, format: 'table', instant: true }],
      defaults: {
        unit: 'd',
        thresholds: thresholds([
          [null, 'red'],
          [7, 'orange'],
          [30, 'green'],
        ]),
      },
    }),
    panel({
      type: 'timeseries',
      title: 'Probe',
      gridPos: { x: 0, y: 25, w: 24, h: 6 },
      targets: [
        { expr: `pve_k3s_probe_duration_seconds{${C}}`, legendFormat: 'probe duration' },
        { expr: `pve_k3s_probe_success{${C}}`, legendFormat: 'probe success' },
        { expr: `time() - pve_k3s_backup_last_run_timestamp_seconds{${C}}`, legendFormat: 'since the last backup run (s)' },
      ],
    }),
  ];
  return {
    uid: 'pve-k3s',
    title: 'pve-k3s',
    description: 'k3s on Proxmox VE LXC: nodes, versions, upgrades, backups (pve-k3s metrics).',
    tags: ['pve-k3s', 'k3s', 'proxmox'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-7d', to: 'now' },
    refresh: '1m',
    timezone: 'utc',
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        {
          name: 'cluster',
          label: 'cluster',
          type: 'query',
          datasource: ds,
          query: { query: 'label_values(pve_k3s_health, cluster)', refId: 'cluster' },
          definition: 'label_values(pve_k3s_health, cluster)',
          refresh: 2,
          current: {},
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}
