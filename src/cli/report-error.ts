/** Turns any error into a message on stderr and an exit status (the CLI's one error sink). */
import { PveK3sError } from '../domain/errors.js';

export function formatError(err: unknown, verbose: boolean): { text: string; code: number } {
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
  const e = err instanceof Error ? err : new Error(String(err));
  const tail = verbose ? `${e.stack ?? ''}\n` : '  (this is a bug in pve-k3s: please report it with the --verbose output)\n';
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
