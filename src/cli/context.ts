/** What every command shares: global options, the inventory, the session, output helpers. */
import type { Inventory } from '../inventory/types.js';
import type { Session } from '../operation/connect.js';

export interface GlobalOptions {
  config: string | undefined;
  output: 'table' | 'json' | 'yaml';
  verbose: boolean;
}

export async function loadInventoryFor(g: GlobalOptions): Promise<Inventory> {
  const { findInventoryFile, loadInventory } = await import('../inventory/index.js');
  const file = findInventoryFile({ ...(g.config !== undefined ? { explicit: g.config } : {}), cwd: process.cwd(), env: process.env });
  return loadInventory(file);
}

/** Opens a session for the inventory, runs fn, and always closes it (SSH masters, lab server). */
export async function withSession<T>(g: GlobalOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const inventory = await loadInventoryFor(g);
  const { openSession } = await import('../operation/connect.js');
  const session = await openSession(inventory);
  try {
    return await fn(session);
  } finally {
    await session.close();
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
