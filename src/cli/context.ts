/** What every command shares: global options, the inventory, the connection to the cluster, output helpers. */
import type { Inventory } from '../inventory/types.js';
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
}

export async function loadInventoryFor(g: GlobalOptions): Promise<Inventory> {
  const { findInventoryFile, loadInventory } = await import('../inventory/index.js');
  const file = findInventoryFile({ ...(g.config !== undefined ? { explicit: g.config } : {}), cwd: process.cwd(), env: process.env });
  return loadInventory(file);
}

/** Connects to the cluster of the inventory, runs fn, and always closes it (SSH masters, lab server). */
export async function withCluster<T>(g: GlobalOptions, fn: (s: ClusterConnection) => Promise<T>): Promise<T> {
  const inventory = await loadInventoryFor(g);
  const { connectCluster } = await import('../operation/connect.js');
  const conn = await connectCluster(inventory);
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
