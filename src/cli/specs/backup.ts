/** `pve-k3s backup`: the servers' token and datastore onto this machine. */
import { Command, Option, examples, type Spec } from '../program.js';

const backup: Spec = (run) => {
  const cmd = new Command('backup')
    .summary("back up each server's k3s token and datastore onto this machine (dated, checksummed; optional vzdump)")
    .description(
      "Back up each server's k3s token and datastore (SQLite or etcd snapshot) onto this machine, in a dated, " +
        "checksummed directory; with --vzdump, also every node's container.",
    )
    .option('--keep <n>', 'keep only the newest n backups of the cluster')
    .option('--to <dir>', 'where backups go (default: <state dir>/backups/<cluster>)')
    .option('--offline', 'without sqlite3 in the container: copy state.db with k3s stopped for a moment')
    .option('--vzdump', "also back up every node's container with vzdump, followed to its end")
    .addOption(new Option('--mode <mode>', 'vzdump mode').choices(['snapshot', 'suspend', 'stop'] as const))
    .option('--storage <storage>', "vzdump target storage (default: vzdump's)")
    .action((opts, c) => run(c, async (g) => (await import('../commands/backup.js')).backup(g, opts)));
  examples(cmd, [
    ['back up, keeping the newest 7', 'pve-k3s backup --keep 7'],
    ['also the containers', 'pve-k3s backup --vzdump --mode snapshot --storage local'],
  ]);
  return cmd;
};
export default backup;
