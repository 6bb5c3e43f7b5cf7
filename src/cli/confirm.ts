/** Asking the user on the terminal before a change (upgrade, install, uninstall, restore). */
import { AbortedError, UsageError } from '../domain/errors.js';

/** Refuses when there is no terminal to ask on: scripts must say --yes. */
export function requireTerminal(action: string, hint = 'review the plan above and pass --yes'): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError(`refusing to ${action} without confirmation: not running in a terminal`, { hint });
  }
}

/**
 * Asks on the terminal; true for y/yes. Ctrl-C or Ctrl-D at the prompt throws AbortedError
 * (the CLI prints `aborted` and exits 130); nothing has been changed then.
 */
export async function confirm(
  question: string,
  io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = { input: process.stdin, output: process.stdout },
): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.input, output: io.output });
  // End of input (Ctrl-D, a closed pipe) closes the interface: that is no answer, not a yes.
  const closed = new Promise<never>((_, reject) => rl.once('close', () => reject(new AbortedError('aborted'))));
  closed.catch(() => undefined);
  try {
    const answer = await Promise.race([rl.question(question), closed]);
    return /^y(es)?$/i.test(answer.trim());
  } catch (err) {
    if (err instanceof AbortedError || isAbort(err)) {
      io.output.write('\n'); // the prompt's line is left open
      throw new AbortedError('aborted', { cause: err });
    }
    throw err;
  } finally {
    rl.close();
  }
}

/** readline/promises rejects with an AbortError on Ctrl-C and Ctrl-D. */
function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}
