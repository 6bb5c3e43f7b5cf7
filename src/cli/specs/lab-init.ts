/** `pve-k3s lab init`: a fresh lab and its inventory. */
import { Command, examples, type Spec } from '../program.js';

const labInit: Spec = (run) => {
  const cmd = new Command('init')
    .summary('create a fresh lab and write its inventory to ./pve-k3s.yaml')
    .description('Create a fresh lab (simulated Proxmox hosts with k3s in LXC containers) and write its inventory.')
    .option('--servers <n>', 'k3s servers', '1')
    .option('--workers <n>', 'k3s agents', '3')
    .option('--hosts <n>', 'Proxmox hosts', '2')
    .option('--k3s-version <version>', 'k3s version the nodes run (default: two patches behind stable)')
    .option('--dir <dir>', 'where the lab keeps its state (default: the user state dir)')
    .option('--inventory <file>', 'where to write the inventory', 'pve-k3s.yaml')
    .option('--force', 'overwrite an inventory that is not a lab inventory')
    .option('--bare', 'containers without k3s or its LXC settings, one missing: to try pve-k3s install')
    .action((opts, c) => run(c, async (g) => (await import('../commands/lab.js')).labInit(g, opts)));
  examples(cmd, [
    ['a lab of 1 server and 3 workers on 2 hosts, then its status', 'pve-k3s lab init && pve-k3s status'],
    ['a bigger one', 'pve-k3s lab init --servers 3 --workers 10 --hosts 3'],
    ['containers without k3s, to try install', 'pve-k3s lab init --bare && pve-k3s install'],
  ]);
  return cmd;
};
export default labInit;
