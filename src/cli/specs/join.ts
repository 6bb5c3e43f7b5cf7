/** `pve-k3s join NODE`: add one node of the inventory to the running cluster. */
import { Command, Option, examples, type Spec } from '../program.js';
import { targetVersion } from './plan-options.js';

const join: Spec = (run) => {
  const cmd = new Command('join')
    .summary('add one node of the inventory to the running cluster (its container created and configured as install does)')
    .description(
      'Add one node of the inventory to the running cluster: its container is created and configured as `install` ' +
        "does, k3s installed at the cluster's version, and the node waited for until Ready.",
    )
    .argument('<node>', 'the node, as named in the inventory')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing the plan')
    .option('--airgap <dir>', 'directory ON THE PROXMOX HOST with the k3s binary, images tarball and install.sh')
    .option('--k3s-version <version>', "the air-gap bundle's k3s version")
    .addOption(new Option('--version <version>', 'old spelling of --k3s-version').hideHelp())
    .option('--ready-timeout <duration>', 'how long the node may take to be Ready')
    .action((node, opts, c) =>
      run(c, async (g) => (await import('../commands/install.js')).join(g, node, { ...opts, version: targetVersion(opts) })),
    );
  examples(cmd, [['add the node k3s-w4 added to the inventory', 'pve-k3s join k3s-w4']]);
  return cmd;
};
export default join;
