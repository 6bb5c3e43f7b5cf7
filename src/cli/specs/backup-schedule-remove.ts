/** `pve-k3s backup schedule remove`. */
import { Command, examples, type Spec } from '../program.js';

const backupScheduleRemove: Spec = (run) => {
  const cmd = new Command('remove')
    .summary("stop, disable and remove the timer (and k3s's etcd snapshot drop-in); backups are kept")
    .description(
      "Stop, disable and remove the backup timer and service (and k3s's etcd snapshot drop-in on each server). The backups are kept.",
    )
    .option('--on <where>', 'local or the Proxmox host it was installed on (default: where the record says)')
    .action((opts, c) => run(c, async (g) => (await import('../commands/backup-schedule.js')).scheduleRemove(g, opts)));
  examples(cmd, [['stop the scheduled backups (the backups stay)', 'pve-k3s backup schedule remove']]);
  return cmd;
};
export default backupScheduleRemove;
