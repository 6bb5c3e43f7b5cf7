/** `pve-k3s lab init|reset|status`: the embedded, simulated Proxmox cluster. */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { UsageError, fileError } from '../../domain/errors.js';
import { renderTable } from '../table.js';
import type { Inventory } from '../../inventory/types.js';
import { loadInventoryFor, out, printDocument, type GlobalOptions } from '../context.js';

export interface LabInitFlags {
  servers: string;
  workers: string;
  hosts: string;
  k3sVersion?: string;
  dir?: string;
  inventory: string;
  force?: boolean;
  bare?: boolean;
}

function count(name: string, v: string, range: { min: number; max: number }): number {
  const { min, max } = range;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export async function labInit(g: GlobalOptions, flags: LabInitFlags): Promise<number> {
  const servers = count('servers', flags.servers, { min: 1, max: 7 });
  const workers = count('workers', flags.workers, { min: 0, max: 500 });
  const hosts = count('hosts', flags.hosts, { min: 1, max: 16 });
  const invFile = resolve(g.config ?? flags.inventory);
  if (existsSync(invFile) && !flags.force) {
    const text = await readFile(invFile, 'utf8');
    if (!/^lab:/m.test(text)) {
      throw new UsageError(`${invFile} exists and is not a lab inventory; refusing to overwrite it`, {
        hint: 'use --inventory <other file>, or --force to overwrite it',
      });
    }
  }
  const { stateDir } = await import('../../inventory/index.js');
  const dir = resolve(flags.dir ?? join(stateDir(process.env), 'lab', 'lab'));
  const { initLab, renderLabInventory } = await import('../../lab/index.js');
  const lab = await initLab({
    dir,
    servers,
    workers,
    hosts,
    ...(flags.k3sVersion ? { version: flags.k3sVersion } : {}),
    ...(flags.bare ? { bare: true } : {}),
  });
  await writeFile(invFile, renderLabInventory(lab));
  if (g.output !== 'table') {
    await printDocument(g, { inventory: invFile, dir, nodes: lab.summary() });
  } else {
    if (flags.bare)
      out(
        `Created a bare lab in ${dir}: ${hosts} simulated Proxmox host(s) with the containers of ${servers} server(s) and ${workers} worker(s), without k3s; the last one does not exist yet\n`,
      );
    else out(`Created a lab with ${servers} server(s) and ${workers} worker(s) on ${hosts} simulated Proxmox host(s) in ${dir}\n`);
    out(`Wrote its inventory to ${invFile}\n`);
    out(flags.bare ? 'Next: pve-k3s install\n' : 'Next: pve-k3s status, pve-k3s plan, pve-k3s upgrade\n');
  }
  return 0;
}

async function labOfInventory(g: GlobalOptions, inv?: Inventory) {
  inv ??= await loadInventoryFor(g);
  const dir = inv.providers['lab']?.['dir'];
  if (typeof dir !== 'string')
    throw new UsageError(`${inv.file} is not a lab inventory (it has no lab: section)`, { hint: 'create a lab with `pve-k3s lab init`' });
  const { openLab } = await import('../../lab/index.js');
  return openLab(dir);
}

export async function labReset(g: GlobalOptions): Promise<number> {
  const inv = await loadInventoryFor(g);
  const lab = await labOfInventory(g, inv);
  const [{ stateDir }, { journalPath }, { connectCluster }, { guarded, guardEnvFor }] = await Promise.all([
    import('../../inventory/index.js'),
    import('../../operation/journal.js'),
    import('../../operation/connect.js'),
    import('../../operation/guard.js'),
  ]);
  const journal = journalPath(stateDir(process.env), inv.cluster);
  const hadJournal = existsSync(journal);
  // A reset changes the cluster like a restore: refused while another operation holds its
  // lease (a lab whose API does not answer is reset all the same).
  const conn = await connectCluster(inv);
  try {
    await guarded(guardEnvFor(conn, process.env), { operation: 'lab reset', steps: 1, clusterMayNotExist: true }, (h) =>
      h.step('lab/reset', inv.cluster, () => h.replacingDatastore(() => lab.reset())),
    );
  } finally {
    await conn.close();
  }
  // The fresh world starts with no lease: drop the one the reset itself held and released.
  const { clearReleasedLease } = await import('../../lab/index.js');
  lab.update((s) => clearReleasedLease(s, inv.cluster));
  // The journal of the lab's cluster tells of runs on the world just thrown away.
  try {
    await rm(journal, { force: true });
  } catch (err) {
    throw fileError(err, { action: 'remove the journal', path: journal });
  }
  out(`Reset the lab in ${lab.dir} to its initial state${hadJournal ? ` and removed its journal ${journal}` : ''}.\n`);
  return 0;
}

export async function labStatus(g: GlobalOptions): Promise<number> {
  const lab = await labOfInventory(g);
  const nodes = lab.summary();
  if (g.output !== 'table') {
    await printDocument(g, { dir: lab.dir, nodes });
    return 0;
  }
  out(`Lab in ${lab.dir}\n`);
  out(
    renderTable(
      ['HOST', 'VMID', 'NAME', 'STATUS', 'ROLE', 'K3S', 'KUBELET', 'READY', 'SCHEDULABLE'],
      nodes.map((n) => [
        n.host,
        String(n.vmid),
        n.name,
        n.status,
        n.role ?? '-',
        n.version ?? '-',
        n.kubelet ?? '-',
        n.ready === undefined ? '-' : n.ready ? 'Ready' : 'NotReady',
        n.schedulable === undefined ? '-' : n.schedulable ? 'yes' : 'no',
      ]),
    ),
  );
  return 0;
}
