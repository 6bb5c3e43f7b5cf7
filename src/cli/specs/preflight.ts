/** `pve-k3s preflight`: what an upgrade checks before it starts, and the known issues of its target. */
import { examples, type Spec } from '../program.js';
import { planCommand, targetVersion } from './plan-options.js';

const preflight: Spec = (run) => {
  const cmd = planCommand('preflight')
    .summary('check what an upgrade needs before it starts, and the known k3s-in-LXC issues of its target (exit 1 when a check fails)')
    .description(
      'Run every check an upgrade makes before it starts, for the target it would take: nodes Ready, containers ' +
        'running and unlocked, etcd quorum with one member down, room for the download, snapshot storage (with ' +
        '--snapshot), Proxmox HA or a load balancer that could move a container, system-upgrade-controller or Rancher, ' +
        'and the known k3s-in-LXC issues of the target version. Each failure says how to fix it; --fix applies the safe fixes.',
    )
    .option('--snapshot', 'also check that every container to upgrade can be snapshotted')
    .option('--fix', 'apply the safe fixes of the known issues (shown first; a changed container is restarted, one at a time)')
    .option('-y, --yes', 'do not ask before restarting containers')
    .action((opts, c) =>
      run(c, async (g) => (await import('../commands/preflight.js')).preflight(g, { ...opts, version: targetVersion(opts) })),
    );
  examples(cmd, [
    ['before an upgrade', 'pve-k3s preflight'],
    ['for a pinned target, with snapshots', 'pve-k3s preflight --k3s-version v1.36.1+k3s1 --snapshot'],
    ['apply the safe fixes', 'pve-k3s preflight --fix --yes'],
    ['go on despite a lock you know about', 'pve-k3s upgrade --ignore-preflight container-lock'],
  ]);
  return cmd;
};
export default preflight;
