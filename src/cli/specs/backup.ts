/** `pve-k3s backup`: the servers' token and datastore onto this machine. */
import { Command, examples, type Spec } from '../program.js';
import { contentOptions, retentionOptions } from './backup-options.js';

const backup: Spec = (run) => {
  const cmd = contentOptions(
    retentionOptions(
      new Command('backup')
        .summary("back up each server's k3s token and datastore onto this machine (dated, checksummed; optional vzdump)")
        .description(
          "Back up each server's k3s token and datastore (SQLite or etcd snapshot) onto this machine, in a dated, " +
            "checksummed directory; with --vzdump, also every node's container. Retention tiers, off-host copies, " +
            'a schedule (backup schedule) and a restore drill (backup verify --drill) go with it.',
        ),
    ),
  )
    .option('--to <dir>', 'where backups go (default: <state dir>/backups/<cluster>)')
    .option('--latest-snapshot', "embedded etcd: pull the newest snapshot k3s's own schedule took instead of taking one")
    .action((opts, c) => run(c, async (g) => (await import('../commands/backup.js')).backup(g, opts)));
  examples(cmd, [
    ['back up, keeping the newest 7', 'pve-k3s backup --keep 7'],
    ['tiers: 3 newest, 7 daily, 4 weekly, 6 monthly', 'pve-k3s backup --keep 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 6'],
    ['also the containers, to a PBS storage with its own retention', 'pve-k3s backup --vzdump --storage pbs --vzdump-keep 3'],
    ['and a copy off this machine', 'pve-k3s backup --keep 7 --copy-to backup@nas:/srv/k3s'],
  ]);
  return cmd;
};
export default backup;
