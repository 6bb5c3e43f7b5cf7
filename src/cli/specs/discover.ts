/** `pve-k3s discover`: the k3s nodes among a Proxmox host's containers. */
import { Command, examples, type Spec } from '../program.js';

const discover: Spec = (run) => {
  const cmd = new Command('discover')
    .summary('find the k3s nodes among the LXC containers of a Proxmox host or cluster; print or write (update) an inventory')
    .description(
      'Find the k3s nodes among the LXC containers of a Proxmox host or cluster (by tag, or by the k3s service ' +
        'they run) and print an inventory, or write it (updating an existing one in place, comments kept).',
    )
    .option(
      '--host <dest>',
      'a Proxmox host: ssh destination, `local`, or lab:<host> (repeat for each node to look into)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--tag <tag>', 'keep containers with this Proxmox tag', 'k3s')
    .option('--all', 'keep every container that runs a k3s service, tagged or not')
    .option('--write <file>', 'write the inventory to FILE, updating it in place if it exists (default: print it)')
    .option('--cluster <name>', 'cluster name for a new inventory (default: k3s)')
    .option('--ssh-config <file>', 'ssh config file for --host destinations (ssh -F)')
    .option('--lab-dir <dir>', "the lab for lab:<host> (default: the inventory's lab, else the one `lab init` makes)")
    .option(
      '--api <url>',
      'list containers through the Proxmox REST API (https://host:8006); token from $PVE_API_TOKEN or --api-token-file',
    )
    .option('--api-token-file <file>', 'file holding the API token USER@REALM!TOKENID=UUID')
    .option('--ca <file>', "verify the API's certificate against this CA (e.g. /etc/pve/pve-root-ca.pem)")
    .option('--fingerprint <sha256>', "pin the API's certificate by its SHA-256 fingerprint (pvenode cert info)")
    .option('--insecure', "do not verify the API's certificate")
    .action((opts, c) => run(c, async (g) => (await import('../commands/discover.js')).discoverCommand(g, opts)));
  examples(cmd, [
    ['look into two Proxmox hosts over ssh', 'pve-k3s discover --host root@pve1 --host root@pve2'],
    ['write (or update) the inventory', 'pve-k3s discover --host root@pve1 --write pve-k3s.yaml'],
    ['through the API', 'PVE_API_TOKEN=... pve-k3s discover --api https://pve1:8006 --ca pve-root-ca.pem'],
  ]);
  return cmd;
};
export default discover;
