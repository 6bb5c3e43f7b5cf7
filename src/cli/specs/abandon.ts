/** `pve-k3s abandon`: forget an interrupted upgrade. */
import { Command, examples, type Spec } from '../program.js';

const abandon: Spec = (run) => {
  const cmd = new Command('abandon')
    .summary('forget the interrupted upgrade recorded in the journal, release its cluster lock, list nodes it left cordoned')
    .description(
      'Forget the interrupted upgrade recorded in the journal and release its cluster lock. The nodes it left ' +
        'cordoned are listed (uncordon them with kubectl once checked); nothing on the nodes is changed.',
    )
    .action((_opts, c) => run(c, async (g) => (await import('../commands/resume.js')).abandon(g)));
  examples(cmd, [['give up the interrupted upgrade', 'pve-k3s abandon']]);
  return cmd;
};
export default abandon;
