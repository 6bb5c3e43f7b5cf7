/** `pve-k3s monitoring export --out DIR`. */
import { Command, examples, type Spec } from '../program.js';

const monitoringExport: Spec = (run) => {
  const cmd = new Command('export')
    .summary('write Prometheus alerting rules (plain and as a PrometheusRule), a Grafana dashboard and a scrape config')
    .description(
      'Write the monitoring kit to a directory: alerting rules (node NotReady, version skew, a node cordoned by pve-k3s for ' +
        'over an hour, upgrade stuck, backup too old or failed, certificate expiry) as a rules file and as a PrometheusRule, ' +
        'a Grafana dashboard, and a scrape config for `pve-k3s metrics --listen`.',
    )
    .option('--out <dir>', 'directory to write the files to')
    .option('--target <host:port>', 'where pve-k3s metrics --listen serves, for the scrape config (default: 127.0.0.1:9480)')
    .option('--job <name>', 'the scrape job name (default: pve-k3s)')
    .option('--namespace <ns>', 'namespace of the PrometheusRule object (default: monitoring)')
    .action((opts, c) => run(c, async (g) => (await import('../commands/monitoring.js')).monitoringExport(g, opts)));
  examples(cmd, [['write the kit', 'pve-k3s monitoring export --out ./monitoring']]);
  return cmd;
};
export default monitoringExport;
