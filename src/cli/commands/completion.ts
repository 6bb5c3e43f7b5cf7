/** `pve-k3s completion SHELL` and the values its scripts ask for (`pve-k3s __complete nodes`). */
import { completionScript, completionTree, type ShellName } from '../completion.js';
import { loadInventoryFor, out, type GlobalOptions } from '../context.js';
import type { CommandUnknownOpts } from '../program.js';

export async function completion(_g: GlobalOptions, shell: ShellName, root: CommandUnknownOpts): Promise<number> {
  out(completionScript(shell, completionTree(root)));
  return 0;
}

/** The node names of the inventory, one a line; nothing (and exit 0) when there is no readable inventory. */
export async function completeValues(g: GlobalOptions, kind: 'nodes'): Promise<number> {
  try {
    const inv = await loadInventoryFor(g);
    if (kind === 'nodes') out(inv.nodes.map((n) => `${n.name}\n`).join(''));
  } catch {
    // A completion never prints an error into the user's command line.
  }
  return 0;
}
