/** Turns any error into a message on stderr and an exit status (the CLI's one error sink). */
import { AbortedError, BugError, PveK3sError } from '../domain/errors.js';

const BUG = '  (this is a bug in pve-k3s: please report it with the --verbose output)\n';

export function formatError(err: unknown, verbose: boolean): { text: string; code: number } {
  // Ctrl-C at a prompt: the user knows what happened; say it in one word, as shells do.
  if (err instanceof AbortedError) return { text: `${err.message}\n`, code: err.exitCode };
  if (err instanceof PveK3sError) {
    const lines = [`error: ${err.message}`];
    if (err.hint) lines.push(`  ${err.hint}`);
    // A list of problems (several nodes, several inventory errors) is always shown: it is the
    // answer the user needs. Other detail (remote output) only with --verbose.
    const isList = err.detail?.startsWith('- ') ?? false;
    if (err.detail && (isList || verbose)) lines.push(isList ? err.detail.trimEnd() : `details:\n${indent(err.detail)}`);
    if (verbose && err.cause instanceof Error) lines.push(`cause: ${err.cause.message}`);
    return { text: lines.join('\n') + '\n', code: err.exitCode };
  }
  // Anything else was not expected: a BugError (a broken invariant) or an error nobody typed.
  const e = err instanceof Error ? err : new BugError(String(err));
  const tail = verbose ? `${e.stack ?? ''}\n` : BUG;
  return { text: `error: ${e.message}\n${tail}`, code: 1 };
}

export function reportError(err: unknown, verbose: boolean): number {
  const { text, code } = formatError(err, verbose);
  process.stderr.write(text);
  return code;
}

function indent(s: string): string {
  return s
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
