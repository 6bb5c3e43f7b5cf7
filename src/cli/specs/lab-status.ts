/** `pve-k3s lab status`. */
import { Command, examples, type Spec } from '../program.js';

const labStatus: Spec = (run) => {
  const cmd = new Command('status')
    .summary("show the lab's hosts and containers as the simulation sees them")
    .description("Show the lab's hosts and containers as the simulation sees them (not as pve-k3s reads them).")
    .action((_opts, c) => run(c, async (g) => (await import('../commands/lab.js')).labStatus(g)));
  examples(cmd, [['what the simulation holds', 'pve-k3s lab status']]);
  return cmd;
};
export default labStatus;
