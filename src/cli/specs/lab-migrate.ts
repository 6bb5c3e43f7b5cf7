/** `pve-k3s lab migrate VMID HOST`. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const labMigrate: Spec = (run) => {
  const cmd = new Command('migrate')
    .summary('move a lab container to another lab host, like pct migrate')
    .description('Move a lab container to another lab host, as `pct migrate` does on Proxmox.')
    .argument('<vmid>', 'the container')
    .argument('<host>', 'the lab host to move it to')
    .option('--restart', 'a running container: stop, move, start (pct migrate --restart)')
    // eslint-disable-next-line @typescript-eslint/max-params -- commander passes each argument, the options and the command positionally
    .action((vmid, host, opts, c) => run(c, async (g) => (await import('../commands/lab-migrate.js')).labMigrate(g, { vmid, host }, opts)));
  examples(cmd, [['move CT 102 to pve2', 'pve-k3s lab migrate 102 pve2 --restart']]);
  textOnly(cmd, 'a note');
  return cmd;
};
export default labMigrate;
