/**
 * `pve-k3s discover`: find the k3s nodes among a Proxmox cluster's LXC containers and print or
 * write an inventory (updating an existing one in place). See docs/inventory.md#discovery.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import { out, printDocument, type GlobalOptions } from '../context.js';
import type { Discovery, FoundContainer } from '../../discover/types.js';

export interface DiscoverFlags {
  host?: string[];
  tag: string;
  all?: boolean;
  write?: string;
  cluster?: string;
  labDir?: string;
  sshConfig?: string;
  api?: string;
  apiTokenFile?: string;
  ca?: string;
  fingerprint?: string;
  insecure?: boolean;
}

export async function discoverCommand(g: GlobalOptions, flags: DiscoverFlags): Promise<number> {
  const hostArgs = flags.host ?? [];
  if (hostArgs.length === 0 && flags.api === undefined) {
    throw new UsageError('discover needs --host <ssh destination|local|lab:HOST> or --api https://HOST:8006', {
      hint: 'e.g. pve-k3s discover --host root@pve1, or pve-k3s discover --host lab:pve1 for the lab',
    });
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(flags.tag))
    throw new UsageError(`--tag ${JSON.stringify(flags.tag)}: a Proxmox tag is letters, digits, - _ and .`);
  const writeFile_ = flags.write === undefined ? undefined : resolve(flags.write);
  const existing = writeFile_ !== undefined && existsSync(writeFile_) ? await readFile(writeFile_, 'utf8') : undefined;

  const { openTargets } = await import('../../discover/targets.js');
  const opened = await openTargets(hostArgs, {
    providerSettings: async (p) => (p === 'lab' ? { dir: await labDirFor(g, flags, existing) } : undefined),
    providerHint: (p) => (p === 'lab' ? "give the lab with --lab-dir DIR, or run discover beside the lab's inventory" : undefined),
    ...(flags.sshConfig ? { sshConfig: resolve(flags.sshConfig) } : {}),
  });
  let discovery: Discovery;
  try {
    const { discover } = await import('../../discover/discover.js');
    const keep = (c: FoundContainer) => flags.all === true || (c.tags ?? []).includes(flags.tag.toLowerCase());
    let listing: FoundContainer[] | undefined;
    let apiRequests = 0;
    if (flags.api !== undefined) {
      const api = await apiClient(flags);
      const { listContainersViaApi } = await import('../../discover/api-listing.js');
      listing = await listContainersViaApi(api, keep);
      apiRequests = api.requests;
    }
    discovery = await discover(opened.targets, { tag: flags.tag, all: flags.all === true, ...(listing ? { listing } : {}) });
    discovery.roundTrips += apiRequests;
  } finally {
    await opened.close();
  }

  const { mergeInventory } = await import('../../discover/merge.js');
  const target = writeFile_ ?? resolve('pve-k3s.yaml');
  if (discovery.nodes.length === 0 && existing === undefined) {
    report(discovery, []);
    throw new UsageError(`found no k3s nodes among ${discovery.nodes.length + discovery.skipped.length} container(s)`, {
      hint: flags.all
        ? 'no container runs a k3s service'
        : `tag the k3s containers with "${flags.tag}" (pct set <vmid> --tags ${flags.tag}), or use --all`,
    });
  }
  const merged = mergeInventory(discovery, existing, {
    file: target,
    ...(flags.cluster ? { cluster: flags.cluster } : {}),
    providers: opened.providers,
  });
  if (flags.cluster && existing !== undefined) merged.changes.push(`--cluster ignored: ${target} already names its cluster`);

  if (g.output !== 'table') {
    await printDocument(g, {
      source: discovery.source,
      nodes: discovery.nodes,
      skipped: discovery.skipped,
      warnings: discovery.warnings,
      changes: merged.changes,
      ...(writeFile_ ? { written: writeFile_ } : { inventory: merged.text }),
    });
    if (writeFile_) await writeAtomic(writeFile_, merged.text);
    return 0;
  }
  if (writeFile_ === undefined) {
    out(merged.text);
    report(discovery, []);
    return 0;
  }
  if (existing === merged.text) {
    out(`${writeFile_} is up to date (${discovery.nodes.length} node(s) found)\n`);
  } else {
    await writeAtomic(writeFile_, merged.text);
    out(`${existing === undefined ? 'Wrote' : 'Updated'} ${writeFile_}: ${discovery.nodes.length} node(s) found\n`);
  }
  report(discovery, merged.changes);
  return 0;
}

/** Changes on stdout; skipped containers and warnings on stderr (the inventory may be on stdout). */
function report(d: Discovery, changes: string[]): void {
  for (const c of changes) out(`  ${c}\n`);
  for (const s of d.skipped) process.stderr.write(`skipped CT ${s.vmid} ${s.name} on ${s.host}: ${s.reason}\n`);
  for (const w of d.warnings) process.stderr.write(`warning: ${w}\n`);
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const mode = (await stat(file).catch(() => undefined))?.mode;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: mode === undefined ? 0o644 : mode & 0o777 });
  await rename(tmp, file);
}

/** --lab-dir, else the lab of the file being updated or of -c, else `lab init`'s default. */
export async function labDirFor(g: GlobalOptions, flags: { labDir?: string | undefined }, existing: string | undefined): Promise<string> {
  if (flags.labDir) return resolve(flags.labDir);
  const fromText = (text: string | undefined) => (text === undefined ? undefined : /^lab:\s*\n\s+dir:\s*(\S.*)$/m.exec(text)?.[1]?.trim());
  let own = fromText(existing) ?? (g.config ? fromText(await readFile(g.config, 'utf8').catch(() => undefined)) : undefined);
  if (own === undefined && !g.config) {
    const { findInventoryFile } = await import('../../inventory/index.js');
    const found = (() => {
      try {
        return findInventoryFile({ cwd: process.cwd(), env: process.env });
      } catch {
        return undefined;
      }
    })();
    if (found) own = fromText(await readFile(found, 'utf8').catch(() => undefined));
  }
  if (own) return resolve(own);
  const { stateDir } = await import('../../inventory/index.js');
  return join(stateDir(process.env), 'lab', 'lab');
}

async function apiClient(flags: DiscoverFlags) {
  const [{ PveApi }, { readToken }] = await Promise.all([import('../../proxmox/api/client.js'), import('../../proxmox/api/token.js')]);
  const token = await readToken({ file: flags.apiTokenFile, env: process.env });
  const chosen = [flags.ca, flags.fingerprint, flags.insecure ? 'x' : undefined].filter((x) => x !== undefined).length;
  if (chosen > 1) throw new UsageError('give only one of --ca, --fingerprint and --insecure');
  let tls: import('../../proxmox/api/client.js').TlsTrust = { kind: 'system' };
  if (flags.ca) {
    const pem = await readFile(flags.ca, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the CA file ${flags.ca}: ${e.code ?? String(e)}`);
    });
    tls = { kind: 'ca', pem };
  } else if (flags.fingerprint) tls = { kind: 'fingerprint', sha256: flags.fingerprint };
  else if (flags.insecure) tls = { kind: 'insecure' };
  return new PveApi({ url: flags.api!, token, tls });
}
