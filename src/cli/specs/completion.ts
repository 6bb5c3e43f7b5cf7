/** `pve-k3s completion bash|zsh|fish`: the shell completion script. */
import { Argument, Command, examples, type CommandUnknownOpts, textOnly, type Spec } from '../program.js';

function rootOf(c: CommandUnknownOpts): CommandUnknownOpts {
  let r = c;
  while (r.parent) r = r.parent;
  return r;
}

const completion: Spec = (run) => {
  const cmd = new Command('completion')
    .summary('print the shell completion script for bash, zsh or fish')
    .description(
      'Print the completion script for bash, zsh or fish: commands, options, their choices, files, and the node ' +
        'names of the inventory for the commands that take a node (read when TAB is pressed).',
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish'] as const))
    .action((shell, _opts, c) => run(c, async (g) => (await import('../commands/completion.js')).completion(g, shell, rootOf(c))));
  examples(cmd, [
    ['bash, for every new shell', 'pve-k3s completion bash > ~/.local/share/bash-completion/completions/pve-k3s'],
    ['bash, this shell only', 'source <(pve-k3s completion bash)'],
    ['zsh', 'pve-k3s completion zsh > "${fpath[1]}/_pve-k3s"'],
    ['fish', 'pve-k3s completion fish > ~/.config/fish/completions/pve-k3s.fish'],
  ]);
  textOnly(cmd, 'a shell script');
  return cmd;
};
export default completion;
