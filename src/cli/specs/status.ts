/** `pve-k3s status`: each node as the cluster and Proxmox see it. */
import { Command, Option, examples, type Spec } from '../program.js';

const status: Spec = (run) => {
  const cmd = new Command('status')
    .summary('show each node: role, Proxmox host, container, versions, Ready, schedulable, target')
    .description(
      'Show each node of the inventory: its role, Proxmox host and container, the k3s version it runs, whether it is Ready ' +
        'and schedulable, and the version an upgrade would take it to. Nothing is changed.',
    )
    .option('--channel <name>', 'channel for the target column')
    .option('--k3s-version <version>', 'pinned target for the target column, e.g. v1.33.5+k3s1')
    .addOption(new Option('--version <version>', 'old spelling of --k3s-version').hideHelp())
    .option('--check', 'one Nagios-style line; exit 0 ok, 1 warning, 2 critical (for cron and monitors)')
    .option('--watch [seconds]', 'refresh every few seconds (default 5) until Ctrl-C')
    .option('--iterations <n>', 'with --watch: stop after n refreshes')
    .action((opts, c) =>
      run(c, async (g) => {
        const { k3sVersion, version, ...rest } = opts;
        if (rest.check && g.output !== 'table') {
          const { UsageError } = await import('../../domain/errors.js');
          throw new UsageError(`status --check prints one Nagios-style line: -o ${g.output} does not apply to it`, {
            hint: 'Run status -o json for the document, or status --check for the line.',
          });
        }
        return (await import('../commands/status.js')).status(g, { ...rest, version: k3sVersion ?? version });
      }),
    );
  examples(cmd, [
    ['show the nodes of ./pve-k3s.yaml', 'pve-k3s status'],
    ['as JSON, for scripts', 'pve-k3s status -o json'],
    ['for a monitor: one line, exit 0 ok, 1 warning, 2 critical', 'pve-k3s status --check'],
  ]);
  return cmd;
};
export default status;
