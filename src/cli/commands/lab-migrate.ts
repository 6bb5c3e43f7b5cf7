/** `pve-k3s lab migrate <vmid> <host>`: move a lab container to another lab host (`pct migrate`). */
import { UsageError } from '../../domain/errors.js';
import { loadInventoryFor, out, type GlobalOptions } from '../context.js';

export async function labMigrate(g: GlobalOptions, args: { vmid: string; host: string }, flags: { restart?: boolean }): Promise<number> {
  const { vmid: vmidText, host: target } = args;
  const vmid = Number(vmidText);
  if (!/^\d+$/.test(vmidText)) throw new UsageError(`vmid must be a container ID, got ${JSON.stringify(vmidText)}`);
  const inv = await loadInventoryFor(g);
  const dir = inv.providers['lab']?.['dir'];
  if (typeof dir !== 'string')
    throw new UsageError(`${inv.file} is not a lab inventory (it has no lab: section)`, { hint: 'create a lab with `pve-k3s lab init`' });
  const [{ openLab }, { migrateContainer }] = await Promise.all([import('../../lab/index.js'), import('../../lab/migrate.js')]);
  const lab = await openLab(dir);
  const from = lab.state.hosts.find((h) => h.containers.some((c) => c.vmid === vmid))?.name;
  const error = migrateContainer(lab, vmid, { target, restart: flags.restart === true });
  if (error !== undefined)
    throw new UsageError(
      `lab migrate ${vmid} ${target}: ${error}`,
      error.includes('running') ? { hint: 'add --restart to stop, move and start it' } : {},
    );
  out(
    `Moved CT ${vmid} from ${from} to ${target}. The inventory still says ${from}: pve-k3s finds it anyway; \`pve-k3s discover --host lab:${target} --write ${inv.file}\` updates the file.\n`,
  );
  return 0;
}
