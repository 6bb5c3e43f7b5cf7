/** `pve-k3s install`: a new cluster from the inventory. */
import { Command, Option, examples, type Spec } from '../program.js';
import { targetVersion } from './plan-options.js';

const install: Spec = (run) => {
  const cmd = new Command('install')
    .summary('create and configure the containers of the inventory for k3s, install the servers then the agents, wait Ready')
    .description(
      'Create and configure the containers of the inventory for k3s (the LXC settings k3s needs), install the servers ' +
        'then the agents, and wait until every node is Ready. Shows its plan and asks first; safe to run again.',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing the plan')
    .option('--k3s-version <version>', "k3s version for a new cluster (default: k3s.version, else the channel's latest)")
    .addOption(new Option('--version <version>', 'old spelling of --k3s-version').hideHelp())
    .option('--channel <name>', 'channel for a new cluster (default: k3s.channel, else stable)')
    .option('--airgap <dir>', 'directory ON THE PROXMOX HOSTS with the k3s binary, images tarball and install.sh (needs --k3s-version)')
    .option('--ready-timeout <duration>', 'how long each node may take to be Ready (default upgrade.readyTimeout)')
    .action((opts, c) =>
      run(c, async (g) => (await import('../commands/install.js')).install(g, { ...opts, version: targetVersion(opts) })),
    );
  examples(cmd, [
    ['see what it would do', 'pve-k3s install --dry-run'],
    ['install a pinned version without asking', 'pve-k3s install --k3s-version v1.33.5+k3s1 --yes'],
    ['air-gapped', 'pve-k3s install --airgap /srv/k3s-bundle --k3s-version v1.33.5+k3s1'],
  ]);
  return cmd;
};
export default install;
