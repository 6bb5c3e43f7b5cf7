/** loadInventory: read an inventory file and parse it. */
import { readFile } from 'node:fs/promises';
import { InventoryError } from '../domain/errors.js';
import type { Inventory } from './types.js';
import { parseInventory, type ParseOptions } from './parse.js';

/** Reads and validates the inventory at `path` (as given; resolved for Inventory.file). */
export async function loadInventory(path: string, opts: ParseOptions = {}): Promise<Inventory> {
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
  return parseInventory(text, path, opts);
}
