/** What every command shares: global options, the inventory, the connection to the cluster, output helpers. */
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { InventoryError } from '../domain/errors.js';
import type { ClusterConnection } from '../operation/connect.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

export interface GlobalOptions {
  config: string | undefined;
  output: OutputFormat;
  verbose: boolean;
  /** -q/--quiet: no progress or notes on stderr. */
  quiet: boolean;
  /** False with --no-color or $NO_COLOR. */
  color: boolean;
  /** False with --no-persist: SSH connections close when the command ends. @default true */
  persist?: boolean;
}

/** Where the inventory's name came from: -c, $PVE_K3S_CONFIG, or the search (./pve-k3s.yaml, the config dir). */
export type InventorySource = '-c' | '$PVE_K3S_CONFIG' | 'search';

export function inventorySource(g: GlobalOptions, env: NodeJS.ProcessEnv = process.env): InventorySource {
  return g.config !== undefined ? '-c' : (env['PVE_K3S_CONFIG'] ?? '') !== '' ? '$PVE_K3S_CONFIG' : 'search';
}

/** The inventory file: -c, else $PVE_K3S_CONFIG, else ./pve-k3s.yaml, ./pve-k3s.yml, the user config dir. */
export async function inventoryFileFor(g: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  // The modules themselves, not inventory/index.js: a cached inventory needs no parser (./inventory/cache.ts).
  const { findInventoryFile } = await import('../inventory/discover.js');
  const source = inventorySource(g, env);
  const explicit = source === '-c' ? g.config : source === '$PVE_K3S_CONFIG' ? env['PVE_K3S_CONFIG'] : undefined;
  try {
    return findInventoryFile({ ...(explicit !== undefined ? { explicit } : {}), cwd: process.cwd(), env });
  } catch (err) {
    if (source !== '$PVE_K3S_CONFIG' || !(err instanceof InventoryError)) throw err;
    throw new InventoryError(`${err.message} (named by $PVE_K3S_CONFIG)`, {
      file: err.file,
      hint: 'Set PVE_K3S_CONFIG to an inventory file, or unset it to use ./pve-k3s.yaml; -c FILE overrides it.',
    });
  }
}

export async function loadInventoryFor(g: GlobalOptions): Promise<Inventory> {
  const [{ loadInventory }, { cacheDir }] = await Promise.all([import('../inventory/load.js'), import('../inventory/paths.js')]);
  return loadInventory(await inventoryFileFor(g), { cacheDir: join(cacheDir(process.env), 'inventory') });
}

/** Connects to the cluster of the inventory, runs fn, and always closes it (SSH masters, lab server). */
export async function withCluster<T>(g: GlobalOptions, fn: (s: ClusterConnection) => Promise<T>): Promise<T> {
  const inventory = await loadInventoryFor(g);
  const { connectCluster } = await import('../operation/connect.js');
  const conn = await connectCluster(inventory, { persist: g.persist !== false });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** Writes a document as JSON or YAML (for -o json|yaml). */
export async function printDocument(g: GlobalOptions, doc: unknown): Promise<void> {
  if (g.output === 'yaml') {
    const { stringify } = await import('yaml');
    process.stdout.write(stringify(doc));
  } else {
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }
}

export function out(text: string): void {
  process.stdout.write(text);
}
