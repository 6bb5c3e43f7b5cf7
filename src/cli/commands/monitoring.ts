/** `pve-k3s monitoring export --out DIR`: the Prometheus rules, PrometheusRule, Grafana dashboard and scrape config. */
import { resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import { out, printDocument, type GlobalOptions } from '../context.js';

export interface MonitoringExportFlags {
  out?: string;
  /** Where `metrics --listen` serves, for the scrape config. */
  target?: string;
  job?: string;
  namespace?: string;
}

export async function monitoringExport(g: GlobalOptions, flags: MonitoringExportFlags): Promise<number> {
  if (!flags.out) throw new UsageError('monitoring export needs --out DIR', { hint: 'e.g. pve-k3s monitoring export --out ./monitoring' });
  if (flags.target !== undefined && !/^[^\s/]+:\d{1,5}$/.test(flags.target))
    throw new UsageError(`--target takes HOST:PORT (where pve-k3s metrics --listen serves), got "${flags.target}"`);
  const { exportMonitoring } = await import('../../monitoring/export.js');
  const files = await exportMonitoring({
    out: resolve(flags.out),
    ...(flags.target ? { target: flags.target } : {}),
    ...(flags.job ? { job: flags.job } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  });
  if (g.output !== 'table') await printDocument(g, { files });
  else for (const f of files) out(`wrote ${f.path}: ${f.what}\n`);
  return 0;
}
