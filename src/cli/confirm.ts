/** Asking the user on the terminal before a change (upgrade, install, uninstall, restore). */
import { UsageError } from '../domain/errors.js';

/** Refuses when there is no terminal to ask on: scripts must say --yes. */
export function requireTerminal(action: string, hint = 'review the plan above and pass --yes'): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError(`refusing to ${action} without confirmation: not running in a terminal`, { hint });
  }
}

/** Asks on the terminal; true for y/yes. */
export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
