/** `pve-k3s uninstall NODE`: take one node out of the cluster. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const uninstall: Spec = (run) => {
  const cmd = new Command('uninstall')
    .summary('drain a node, delete it from the cluster and run the k3s uninstall script in its container (asks first)')
    .description(
      'Drain a node, delete it from the cluster and run the k3s uninstall script in its container. Asks first; the ' +
        'only running server is refused unless --force (that destroys the cluster).',
    )
    .argument('<node>', 'the node, as named in the inventory')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing what it would do')
    .option('--force', 'also the only running server (destroys the cluster)')
    .action((node, opts, c) => run(c, async (g) => (await import('../commands/uninstall.js')).uninstall(g, node, opts)));
  examples(cmd, [['see what removing k3s-w3 would do', 'pve-k3s uninstall k3s-w3 --dry-run']]);
  textOnly(cmd, 'its steps as it takes them');
  return cmd;
};
export default uninstall;
