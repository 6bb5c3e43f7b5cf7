/** `pve-k3s backup schedule list`. */
import { Command, type Spec } from '../program.js';

const backupScheduleList: Spec = (run) =>
  new Command('list')
    .summary("show the cluster's backup schedule, its timer, next and last run")
    .description(
      "Show the cluster's backup schedule as recorded, and its timer as systemctl show reports it: active, enabled, next and last run, last result.",
    )
    .action((_opts, c) => run(c, async (g) => (await import('../commands/backup-schedule.js')).scheduleList(g)));
export default backupScheduleList;
