/**
 * `monitoring export`: the monitoring kit as files. The YAML library is loaded only here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboard } from './dashboard.js';
import { prometheusRule, ruleGroups, type RuleOptions } from './rules.js';

export const FILES = {
  rules: 'pve-k3s-rules.yml',
  prometheusRule: 'pve-k3s-prometheusrule.yaml',
  dashboard: 'pve-k3s-dashboard.json',
  scrape: 'prometheus-pve-k3s.yml',
} as const;

export interface ExportOptions extends RuleOptions {
  out: string;
  /** Where `pve-k3s metrics --listen` serves. @default 127.0.0.1:9480 */
  target?: string;
  namespace?: string;
}

export interface ExportedFile {
  path: string;
  what: string;
}

/** A scrape config for `metrics --listen` (each scrape probes the cluster: once a minute, with a long timeout). */
export function scrapeConfig(target: string, job: string, rulesFile: string): Record<string, unknown> {
  return {
    rule_files: [rulesFile],
    scrape_configs: [
      {
        job_name: job,
        scrape_interval: '1m',
        scrape_timeout: '50s',
        metrics_path: '/metrics',
        static_configs: [{ targets: [target] }],
      },
    ],
  };
}

export async function exportMonitoring(o: ExportOptions): Promise<ExportedFile[]> {
  const { stringify } = await import('yaml');
  const job = o.job ?? 'pve-k3s';
  const target = o.target ?? '127.0.0.1:9480';
  mkdirSync(o.out, { recursive: true });
  const y = (doc: unknown) => stringify(doc, { lineWidth: 0 });
  const files: Array<[string, string, string]> = [
    [
      FILES.rules,
      `# Prometheus alerting rules for pve-k3s metrics (promtool check rules ${FILES.rules}).\n${y({ groups: ruleGroups(o) })}`,
      'Prometheus alerting rules (rule_files:)',
    ],
    [
      FILES.prometheusRule,
      `# The same rules as a prometheus-operator PrometheusRule (kubectl apply -f ${FILES.prometheusRule}).\n${y(prometheusRule({ ...o, ...(o.namespace ? { namespace: o.namespace } : {}) }))}`,
      'the same rules as a PrometheusRule object',
    ],
    [FILES.dashboard, JSON.stringify(dashboard(), null, 2) + '\n', 'Grafana dashboard (Dashboards > Import)'],
    [
      FILES.scrape,
      `# Merge into prometheus.yml: scrapes \`pve-k3s metrics --listen ${target}\` and loads the rules.\n${y(scrapeConfig(target, job, FILES.rules))}`,
      `scrape config for metrics --listen ${target}`,
    ],
  ];
  return files.map(([name, text, what]) => {
    const path = join(o.out, name);
    writeFileSync(path, text);
    return { path, what };
  });
}
