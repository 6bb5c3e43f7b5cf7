/** `pve-k3s lab`: the group of the embedded lab's commands. */
import { Command, type Spec } from '../program.js';

const lab: Spec = () =>
  new Command('lab')
    .summary('the embedded lab: a simulated Proxmox cluster to try pve-k3s on')
    .description('The embedded lab: a simulated Proxmox cluster (hosts, LXC containers, k3s) to try pve-k3s on.');
export default lab;
