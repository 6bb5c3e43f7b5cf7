/** `pve-k3s backup schedule`: a systemd timer that runs `pve-k3s backup`. */
import { Command, examples, type Spec } from '../program.js';
import { contentOptions, retentionOptions } from './backup-options.js';

const backupSchedule: Spec = (run) => {
  const cmd = contentOptions(
    retentionOptions(
      new Command('schedule')
        .summary('install a systemd timer that runs pve-k3s backup (user units here, or system units on a Proxmox host)')
        .description(
          'Install a systemd timer and oneshot service that run `pve-k3s backup` with this inventory: user units on ' +
            'this machine (systemctl --user), or system units on a Proxmox host of the inventory. Missed runs catch up ' +
            '(Persistent=true); the output goes to the journal. The plan is shown first.',
        ),
    ),
  )
    .option('--every <when>', 'daily, hourly, or a systemd OnCalendar expression (UTC), e.g. "*-*-* 02:30" or "Mon..Fri 01:00"')
    .option('--on <where>', 'local (this machine, systemctl --user; the default) or a Proxmox host of the inventory')
    .option(
      '--to <dir>',
      'where the backups go on that machine (default: <state dir>/backups/<cluster>; on a host /var/lib/pve-k3s/backups/<cluster>)',
    )
    .option('--program <path>', 'with --on HOST: pve-k3s on that host (default: /usr/local/bin/pve-k3s)')
    .option(
      '--etcd-snapshots',
      "embedded etcd: also let k3s take the snapshots on the same schedule (etcd-snapshot-schedule-cron in each server's config, read at its next restart); the timer pulls the newest",
    )
    .option('--etcd-cron <cron>', "with --etcd-snapshots: k3s's cron expression when --every has no cron equivalent")
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show the plan, change nothing')
    .action((opts, c) => run(c, async (g) => (await import('../commands/backup-schedule.js')).scheduleInstall(g, opts)));
  examples(cmd, [
    ['every night at 00:00 UTC on this machine, 7 kept', 'pve-k3s backup schedule --every daily --keep 7'],
    [
      'on a Proxmox host, tiers and a copy',
      'pve-k3s backup schedule --every "*-*-* 02:30" --on pve1 --keep 3 --keep-daily 7 --copy-to /mnt/nas/k3s',
    ],
    ['embedded etcd: k3s snapshots too', 'pve-k3s backup schedule --every "*-*-* 00/6:00" --keep 8 --etcd-snapshots'],
  ]);
  return cmd;
};
export default backupSchedule;
