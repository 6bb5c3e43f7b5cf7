/** `pve-k3s version` (also `pve-k3s --version`). */
import { Command, examples, type Spec } from '../program.js';

const version: Spec = (run) => {
  const cmd = new Command('version')
    .summary("print pve-k3s's version and the Node.js version running it")
    .description("Print pve-k3s's version and the Node.js version running it (same as `pve-k3s --version`).")
    .action((_opts, c) => run(c, async (g) => (await import('../commands/version.js')).version(g)));
  examples(cmd, [
    ['the version', 'pve-k3s version'],
    ['for scripts', 'pve-k3s version -o json'],
  ]);
  return cmd;
};
export default version;
