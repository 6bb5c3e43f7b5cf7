/** Options `backup` and `backup schedule` share: retention tiers, vzdump and off-host copies. */
import { Option, type Command } from '../program.js';

export function retentionOptions<C extends Command>(cmd: C) {
  return cmd
    .option('--keep <n>', 'keep the newest n backups of the cluster (besides those the tiers keep)')
    .option('--keep-daily <n>', 'also keep the newest backup of each of the last n days that have one')
    .option('--keep-weekly <n>', 'also keep the newest backup of each of the last n ISO weeks that have one')
    .option('--keep-monthly <n>', 'also keep the newest backup of each of the last n months that have one');
}

export function contentOptions<C extends Command>(cmd: C) {
  return cmd
    .option('--offline', 'without sqlite3 in the container: copy state.db with k3s stopped for a moment')
    .option('--vzdump', "also back up every node's container with vzdump, followed to its end")
    .addOption(new Option('--mode <mode>', 'vzdump mode').choices(['snapshot', 'suspend', 'stop'] as const))
    .option('--storage <storage>', "vzdump target storage, e.g. a Proxmox Backup Server storage (default: vzdump's)")
    .option('--vzdump-keep <n|spec>', "vzdump's own retention: n (keep-last) or keep-last=3,keep-weekly=4,... (vzdump --prune-backups)")
    .option(
      '--copy-to <dest>',
      'also copy the backup to a directory or an rsync/SSH destination host:/path, checked with sha256sum (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    );
}
