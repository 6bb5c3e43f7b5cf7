/** `pve-k3s import ansible <inventory>`: an Ansible inventory -> a pve-k3s inventory, with what did not map. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import { out, printDocument, type GlobalOptions } from '../context.js';

export interface ImportFlags {
  out?: string;
  cluster?: string;
  force?: boolean;
}

export async function importAnsible(g: GlobalOptions, file: string, flags: ImportFlags): Promise<number> {
  const outFile = flags.out === undefined ? undefined : resolve(flags.out);
  if (outFile && existsSync(outFile) && !flags.force) {
    throw new UsageError(`${flags.out} exists; refusing to overwrite it`, {
      hint: 'use --force, or write elsewhere with --out; to update an inventory from Proxmox use `pve-k3s discover --write`',
    });
  }
  const { importAnsible: run } = await import('../../import/ansible.js');
  const r = await run(file, { cluster: flags.cluster, outFile: outFile ?? resolve('pve-k3s.yaml') });
  if (outFile) await writeFile(outFile, r.text, { flag: flags.force ? 'w' : 'wx' });
  if (g.output !== 'table') {
    await printDocument(g, {
      format: r.format,
      cluster: r.cluster,
      nodes: r.nodes,
      notMapped: r.notes,
      ...(outFile ? { written: outFile } : { inventory: r.text }),
    });
    return 0;
  }
  if (outFile) out(`Wrote ${outFile}: ${r.nodes.length} node(s) on ${r.hosts.length} Proxmox host(s) from ${file} (${r.format})\n`);
  else out(r.text);
  const sink = outFile ? out : (t: string) => process.stderr.write(t);
  if (r.notes.length > 0) {
    sink(`not mapped (${r.notes.length}):\n`);
    for (const n of r.notes) sink(`  ${n.where}: ${n.what}: ${n.why}\n`);
  }
  return 0;
}
