/** `pve-k3s monitoring`: the group of the monitoring kit's commands. */
import { Command, type Spec } from '../program.js';

const monitoring: Spec = () =>
  new Command('monitoring')
    .summary('a monitoring kit for the pve-k3s metrics')
    .description(
      'A monitoring kit for `pve-k3s metrics --listen`: Prometheus rules, a PrometheusRule, a Grafana dashboard, a scrape config.',
    );
export default monitoring;
