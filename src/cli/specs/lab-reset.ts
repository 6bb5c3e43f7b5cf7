/** `pve-k3s lab reset`. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const labReset: Spec = (run) => {
  const cmd = new Command('reset')
    .summary('recreate the lab of the current inventory from scratch')
    .description('Recreate the lab of the current inventory from scratch, as `lab init` made it.')
    .action((_opts, c) => run(c, async (g) => (await import('../commands/lab.js')).labReset(g)));
  examples(cmd, [['start over', 'pve-k3s lab reset']]);
  textOnly(cmd, 'a note');
  return cmd;
};
export default labReset;
