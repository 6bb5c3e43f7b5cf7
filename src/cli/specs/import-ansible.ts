/** `pve-k3s import ansible FILE`: an Ansible inventory to a pve-k3s inventory. */
import { Command, examples, type Spec } from '../program.js';

const importAnsible: Spec = (run) => {
  const cmd = new Command('ansible')
    .summary('an Ansible inventory (INI or YAML): k3s-io/k3s-ansible, techno-tim, or vmid/pve_host host vars')
    .description(
      'Convert an Ansible inventory (INI or YAML: k3s-io/k3s-ansible, techno-tim, or hosts with vmid/pve_host ' +
        'vars) into a pve-k3s inventory.',
    )
    .argument('<inventory>', 'the Ansible inventory file')
    .option('--out <file>', 'write the pve-k3s inventory here (default: print it)')
    .option('--cluster <name>', 'cluster name (default: from the file name)')
    .option('--force', 'overwrite --out if it exists')
    .action((file, opts, c) => run(c, async (g) => (await import('../commands/import.js')).importAnsible(g, file, opts)));
  examples(cmd, [['convert and write', 'pve-k3s import ansible inventory/hosts.ini --out pve-k3s.yaml']]);
  return cmd;
};
export default importAnsible;
