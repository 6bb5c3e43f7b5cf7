/** `pve-k3s abandon`: forget an interrupted upgrade. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const abandon: Spec = (run) => {
  const cmd = new Command('abandon')
    .summary('forget the interrupted upgrade recorded in the journal, release its cluster lease, list nodes it left cordoned')
    .description(
      'Forget the interrupted upgrade recorded in the journal and release its cluster lease. The nodes it left ' +
        'cordoned are listed (uncordon them with kubectl once checked); nothing on the nodes is changed.',
    )
    .option('--force-takeover', "break the cluster lease of the run's holder now instead of waiting for it to expire")
    .action((opts, c) => run(c, async (g) => (await import('../commands/resume.js')).abandon(g, opts)));
  examples(cmd, [['give up the interrupted upgrade', 'pve-k3s abandon']]);
  textOnly(cmd, 'what it released and the nodes left cordoned');
  return cmd;
};
export default abandon;
