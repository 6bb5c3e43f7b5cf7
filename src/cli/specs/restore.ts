/** `pve-k3s restore DIR`: a backup's datastore and token back onto the servers. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const restore: Spec = (run) => {
  const cmd = new Command('restore')
    .summary("restore a backup's datastore and token (plan shown first; refuses a backup whose checksums do not match)")
    .description(
      "Restore a backup's datastore and token onto the servers. The plan is shown and confirmed first; a backup " +
        'whose checksums do not match is refused.',
    )
    .argument('<backup>', 'the backup directory')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((dir, opts, c) => run(c, async (g) => (await import('../commands/backup.js')).restore(g, dir, opts)));
  examples(cmd, [['restore a backup', 'pve-k3s restore ~/.local/state/pve-k3s/backups/k3s/2025-01-31T02-00-00Z']]);
  textOnly(cmd, 'its plan and its steps');
  return cmd;
};
export default restore;
