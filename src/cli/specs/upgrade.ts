/** `pve-k3s upgrade`: the rolling upgrade. */
import { examples, type Spec } from '../program.js';
import { planCommand, targetVersion } from './plan-options.js';
import { RUN_OPTIONS } from './run-options.js';

const upgrade: Spec = (run) => {
  const cmd = planCommand('upgrade')
    .summary('rolling upgrade: workers one by one (drain, install, wait Ready, uncordon), servers as the skew rules require')
    .description(
      'Upgrade the cluster node by node: drain, install the target k3s, wait until the node passes its health gate, ' +
        'uncordon; servers and workers in the order the version skew rules require. Shows the plan and asks first. ' +
        'Interrupted, it is continued with `resume` or forgotten with `abandon`.',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing the plan')
    .option('--plan <file>', 'run a plan saved with `plan -o json` (refused if the cluster changed since)')
    .option('--wait-for-window', 'outside the maintenance window, wait for it to open instead of refusing')
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
    .action((opts, c) =>
      run(c, async (g) => (await import('../commands/upgrade.js')).upgrade(g, { ...opts, version: targetVersion(opts) })),
    );
  examples(cmd, [
    ["to the channel's latest, asking first", 'pve-k3s upgrade'],
    ['to a pinned version, unattended, with snapshots', 'pve-k3s upgrade --k3s-version v1.33.5+k3s1 --snapshot --yes'],
    ['two workers at a time', 'pve-k3s upgrade --parallel 2'],
  ]);
  return cmd;
};
export default upgrade;
