/** `pve-k3s __complete nodes`: what the completion scripts ask when TAB is pressed (hidden). */
import { Argument, Command, textOnly, type Spec } from '../program.js';

const complete: Spec = (run) => {
  const cmd = new Command('__complete')
    .summary('values for the completion scripts (one a line)')
    .description('Print the values the completion scripts offer for a kind of argument, one a line; never fails.')
    .addArgument(new Argument('<kind>', 'what to list').choices(['nodes'] as const))
    .action((kind, _opts, c) => run(c, async (g) => (await import('../commands/completion.js')).completeValues(g, kind)));
  textOnly(cmd, 'completion values, one a line');
  return cmd;
};
export default complete;
