/** loadInventory: read an inventory file and parse it. */
import { readFile } from 'node:fs/promises';
import { InventoryError } from '../domain/errors.js';
import type { Inventory } from './types.js';
import type { ParseOptions } from './parse.js';
import { homedir } from 'node:os';

export interface LoadOptions extends ParseOptions {
  /**
   * A directory for validated inventories (./cache.ts): an unchanged file is read from there
   * without parsing it again. The CLI passes `cacheDir(env)/inventory`. @default no cache
   */
  cacheDir?: string;
}

/** Reads and validates the inventory at `path` (as given; resolved for Inventory.file). */
export async function loadInventory(path: string, opts: LoadOptions = {}): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? String(e)})`;
    throw new InventoryError(`${path}: ${problem}`, {
      file: path,
      hint: 'Give the path of an inventory file with -c, or see docs/inventory.md.',
      cause: e,
    });
  }
  const { cacheDir, ...rest } = opts;
  // One home for the parse and the cache key: an entry is found only by what its parse used.
  const parse = { ...rest, home: rest.home ?? homedir() };
  // The parser (yaml, zod and the rules) loads only when the file has to be parsed.
  const parseInventory = async () => (await import('./parse.js')).parseInventory(text, path, parse);
  if (cacheDir === undefined) return parseInventory();
  const { readCachedInventory, storeCachedInventory } = await import('./cache.js');
  const parts = { file: path, text, home: parse.home };
  const cached = await readCachedInventory(cacheDir, parts);
  if (cached) return cached;
  const inventory = await parseInventory();
  await storeCachedInventory(cacheDir, parts, inventory);
  return inventory;
}
