/** `pve-k3s metrics`: Prometheus text exposition. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const metrics: Spec = (run) => {
  const cmd = new Command('metrics')
    .summary('Prometheus text exposition: node up/ready/versions, last backup, pending upgrade')
    .description(
      'Print the Prometheus text exposition of the cluster (node up, Ready, versions, last backup, pending upgrade), ' +
        'or serve it over HTTP at /metrics with --listen.',
    )
    .option('--listen <addr>', 'serve it over HTTP at /metrics, e.g. 127.0.0.1:9480 (":9480" = every interface)')
    .action((opts, c) => run(c, async (g) => (await import('../commands/metrics.js')).metrics(g, opts)));
  examples(cmd, [
    ['for the node exporter textfile collector', 'pve-k3s metrics > /var/lib/node_exporter/pve-k3s.prom'],
    ['serve it', 'pve-k3s metrics --listen 127.0.0.1:9480'],
  ]);
  textOnly(cmd, 'the Prometheus text exposition');
  return cmd;
};
export default metrics;
