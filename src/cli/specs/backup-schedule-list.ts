/** `pve-k3s backup schedule list`. */
import { Command, examples, type Spec } from '../program.js';

const backupScheduleList: Spec = (run) => {
  const cmd = new Command('list')
    .summary("show the cluster's backup schedule, its timer, next and last run")
    .description(
      "Show the cluster's backup schedule as recorded, and its timer as systemctl show reports it: active, enabled, next and last run, last result.",
    )
    .action((_opts, c) => run(c, async (g) => (await import('../commands/backup-schedule.js')).scheduleList(g)));
  examples(cmd, [
    ['is the timer running, when does it run next?', 'pve-k3s backup schedule list'],
    ['for a script', 'pve-k3s backup schedule list -o json'],
  ]);
  return cmd;
};
export default backupScheduleList;
