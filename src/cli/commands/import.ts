/** `pve-k3s import ansible <inventory>`: an Ansible inventory -> a pve-k3s inventory, with what did not map. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import { out, printDocument, type GlobalOptions } from '../context.js';
import type { FoundContainers } from '../../import/map.js';

export interface ImportFlags {
  out?: string;
  cluster?: string;
  force?: boolean;
  /** Proxmox hosts to match hosts with no vmid against, as `discover --host` takes them. */
  discover?: string[];
  sshConfig?: string;
  labDir?: string;
}

export async function importAnsible(g: GlobalOptions, file: string, flags: ImportFlags): Promise<number> {
  const outFile = flags.out === undefined ? undefined : resolve(flags.out);
  if (outFile && existsSync(outFile) && !flags.force) {
    throw new UsageError(`${flags.out} exists; refusing to overwrite it`, {
      hint: 'use --force, or write elsewhere with --out; to update an inventory from Proxmox use `pve-k3s discover --write`',
    });
  }
  if ((flags.sshConfig !== undefined || flags.labDir !== undefined) && (flags.discover ?? []).length === 0)
    throw new UsageError(`${flags.sshConfig !== undefined ? '--ssh-config' : '--lab-dir'} is only used with --discover`, {
      hint: 'add --discover <proxmox host> to match the hosts to their containers',
    });
  const found = (flags.discover ?? []).length > 0 ? await discoverFor(g, flags) : undefined;
  const { importAnsible: run } = await import('../../import/ansible.js');
  const r = await run(file, { cluster: flags.cluster, outFile: outFile ?? resolve('pve-k3s.yaml'), ...(found ? { found } : {}) });
  if (outFile) await writeFile(outFile, r.text, { flag: flags.force ? 'w' : 'wx' });
  if (g.output !== 'table') {
    await printDocument(g, {
      format: r.format,
      cluster: r.cluster,
      nodes: r.nodes,
      ...(found ? { matched: r.matches } : {}),
      notMapped: r.notes,
      ...(outFile ? { written: outFile } : { inventory: r.text }),
    });
    return 0;
  }
  if (outFile) out(`Wrote ${outFile}: ${r.nodes.length} node(s) on ${r.hosts.length} Proxmox host(s) from ${file} (${r.format})\n`);
  else out(r.text);
  const sink = outFile ? out : (t: string) => process.stderr.write(t);
  if (r.matches.length > 0) {
    sink(`matched (${r.matches.length}):\n`);
    for (const m of r.matches) sink(`  ${m.where}: ${m.ansibleHost} -> ${m.name} (CT ${m.vmid} on ${m.host}) by ${m.by}\n`);
  }
  if (r.notes.length > 0) {
    sink(`not mapped (${r.notes.length}):\n`);
    for (const n of r.notes) sink(`  ${n.where}: ${n.what}: ${n.why}\n`);
  }
  return 0;
}

/** The top-level sections a provider's hosts need in the file (the lab's `lab:` and `k3s:` sources). */
function providerSettings(
  providers: import('../../discover/targets.js').ProviderInventory[],
  d: import('../../discover/types.js').Discovery,
): Pick<FoundContainers, 'settings'> {
  const used = providers.filter((p) => d.hosts.some((h) => h.access?.kind === 'provider' && h.access.provider === p.name));
  const first = used[0];
  if (!first) return {};
  return {
    settings: {
      sections: Object.fromEntries(used.map((p) => [p.name, { ...p.settings }])),
      ...(first.k3s ? { k3s: { ...first.k3s } } : {}),
    },
  };
}

/** Runs `discover` on the --discover hosts (every container with a k3s service, tagged or not, and the nodes' addresses). */
async function discoverFor(g: GlobalOptions, flags: ImportFlags): Promise<FoundContainers> {
  const hostArgs = flags.discover ?? [];
  const [{ openTargets }, { discover }, { accessValue }, { labDirFor }] = await Promise.all([
    import('../../discover/targets.js'),
    import('../../discover/discover.js'),
    import('../../discover/merge.js'),
    import('./discover.js'),
  ]);
  const opened = await openTargets(hostArgs, {
    providerSettings: async (p) => (p === 'lab' ? { dir: await labDirFor(g, flags, undefined) } : undefined),
    providerHint: (p) => (p === 'lab' ? "give the lab with --lab-dir DIR, or run import beside the lab's inventory" : undefined),
    ...(flags.sshConfig ? { sshConfig: resolve(flags.sshConfig) } : {}),
  });
  try {
    const d = await discover(opened.targets, { all: true, nodeAddresses: true });
    for (const w of d.warnings) process.stderr.write(`warning: ${w.replace('(add --host for it)', '(add --discover for it)')}\n`);
    const hostEntries = new Map(d.hosts.map((h) => [h.name, accessValue(h.access ?? { kind: 'ssh', destination: `root@${h.name}` })]));
    return {
      searched: hostArgs,
      nodes: d.nodes,
      skipped: d.skipped,
      hostEntries,
      ...providerSettings(opened.providers, d),
    };
  } finally {
    await opened.close();
  }
}
