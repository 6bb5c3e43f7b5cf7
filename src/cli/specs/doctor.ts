/** `pve-k3s doctor [NODE]`: the known problems of k3s in Proxmox LXC. */
import { Command, examples, type Spec } from '../program.js';

const doctor: Spec = (run) => {
  const cmd = new Command('doctor')
    .summary('check the known problems of k3s in Proxmox LXC; each failure with its cause and fix')
    .description(
      'Check the known problems of k3s in Proxmox LXC containers (AppArmor, /dev/kmsg, cgroups, swap, ...): each ' +
        'failure is shown with its cause and its fix; --fix applies the safe ones, shown first.',
    )
    .argument('[node]', 'check only this node (and its host)')
    .option('--k3s-version <version>', 'also check the known issues of this version (what an upgrade to it would break)')
    .option('--fix', 'apply the safe fixes (shown first; a container a fix changes is restarted, one at a time)')
    .option('-y, --yes', 'do not ask before restarting containers')
    .option('--metrics', "also check that k3s's scheduler, controller-manager and etcd metrics can be scraped from another machine")
    .action((node, opts, c) => run(c, async (g) => (await import('../commands/doctor.js')).doctor(g, node, opts)));
  examples(cmd, [
    ['check every node', 'pve-k3s doctor'],
    ['check one node and fix what is safe', 'pve-k3s doctor k3s-w1 --fix'],
    ['can Prometheus scrape the control plane?', 'pve-k3s doctor --metrics'],
    ['what would k3s 1.36 break here?', 'pve-k3s doctor --k3s-version v1.36.1+k3s1'],
  ]);
  return cmd;
};
export default doctor;
