/** `pve-k3s resume`: continue an interrupted upgrade. */
import { Command, examples, type Spec } from '../program.js';
import { RUN_OPTIONS } from './run-options.js';
import { collect, IGNORE_PREFLIGHT } from './plan-options.js';

const resume: Spec = (run) => {
  const cmd = new Command('resume')
    .summary('continue the interrupted upgrade recorded in the journal or the cluster (re-reads the cluster first)')
    .description(
      'Continue the upgrade that was interrupted (Ctrl-C, a lost connection, a failed node), as recorded in the ' +
        "journal, or in the cluster's run record when another machine started it (once its lease has expired, or at " +
        'once with --force-takeover): the cluster is read again first, and what is already done is not done again.',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force-takeover', "break the cluster lease of the run's holder now instead of waiting for it to expire")
    .addOption(RUN_OPTIONS.snapshot)
    .addOption(RUN_OPTIONS.noSnapshot)
    .addOption(RUN_OPTIONS.disableEviction)
    .addOption(RUN_OPTIONS.noDisableEviction)
    .addOption(RUN_OPTIONS.drainTimeout)
    .addOption(RUN_OPTIONS.drainForce)
    .addOption(RUN_OPTIONS.drainGracePeriod)
    .addOption(RUN_OPTIONS.skipWaitForDeleteTimeout)
    .addOption(RUN_OPTIONS.drainOnTimeout)
    .addOption(RUN_OPTIONS.readyTimeout)
    .addOption(RUN_OPTIONS.parallel)
    .addOption(IGNORE_PREFLIGHT)
    .option('--prometheus-url <url>', 'no node starts while an alert is active there (default upgrade.prometheusUrl)')
    .option('--alert-filter-regexp <regexp>', 'as kured: ignore active alerts whose name matches')
    .option('--alert-firing-only', 'as kured: only firing alerts block, not pending ones')
    .option('--alert-filter-match-only', 'as kured: only alerts matching --alert-filter-regexp block')
    .option(
      '--blocking-pod-selector <selector>',
      'as kured: a node does not start while pods matching this run on it (repeatable)',
      collect,
    )
    .option('--gate-timeout <duration>', 'how long a closed gate may hold the next node back before the run stops (default 1h)')
    .option('--notify <url>', 'POST each node and the end to this webhook ([ntfy+|slack+|discord+|generic+]URL; repeatable)', collect)
    .option('--window <spec>', 'maintenance window "[DAYS] START-END [TIME-ZONE]" (default upgrade.window)')
    .option('--wait-for-window', 'outside the maintenance window, wait for it to open instead of refusing')
    .option('--soak <duration>', 'each node must stay healthy this long before the next one starts (default upgrade.soak)')
    .option('--canary-soak <duration>', 'the canary, if not done yet, must stay healthy this long (default upgrade.canarySoak; none: ask)')
    .action((opts, c) => run(c, async (g) => (await import('../commands/resume.js')).resume(g, opts)));
  examples(cmd, [['continue, with a longer health gate', 'pve-k3s resume --ready-timeout 10m']]);
  return cmd;
};
export default resume;
