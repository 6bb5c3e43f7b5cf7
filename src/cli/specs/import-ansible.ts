/** `pve-k3s import ansible FILE`: an Ansible inventory to a pve-k3s inventory. */
import { Command, examples, type Spec } from '../program.js';

const importAnsible: Spec = (run) => {
  const cmd = new Command('ansible')
    .summary('an Ansible inventory (INI or YAML): k3s-io/k3s-ansible, techno-tim, or vmid/pve_host host vars')
    .description(
      'Convert an Ansible inventory (INI or YAML: k3s-io/k3s-ansible, techno-tim, or hosts with vmid/pve_host ' +
        'vars) into a pve-k3s inventory. With --discover, hosts that have no vmid are matched to the containers ' +
        'discover finds, by address (net0 ip, node InternalIP) or hostname; a host that matches none or several is ' +
        'listed and nothing is written.',
    )
    .argument('<inventory>', 'the Ansible inventory file')
    .option('--out <file>', 'write the pve-k3s inventory here (default: print it)')
    .option('--cluster <name>', 'cluster name (default: from the file name)')
    .option('--force', 'overwrite --out if it exists')
    .option(
      '--discover <dest>',
      'match hosts with no vmid to the containers of this Proxmox host by address or hostname: ssh destination, `local`, or lab:<host> (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--ssh-config <file>', 'ssh config file for --discover destinations (ssh -F)')
    .option('--lab-dir <dir>', "the lab for --discover lab:<host> (default: the inventory's lab, else the one `lab init` makes)")
    .action((file, opts, c) => run(c, async (g) => (await import('../commands/import.js')).importAnsible(g, file, opts)));
  examples(cmd, [
    ['convert and write', 'pve-k3s import ansible inventory/hosts.ini --out pve-k3s.yaml'],
    [
      'hosts listed by IP: find their containers on Proxmox',
      'pve-k3s import ansible inventory.yml --discover root@pve1 --discover root@pve2 --out pve-k3s.yaml',
    ],
  ]);
  return cmd;
};
export default importAnsible;
