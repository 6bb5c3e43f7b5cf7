/**
 * Several commands in ONE remote round trip: a POSIX sh script (sent on stdin to `sh -s`)
 * that runs each argv in turn and frames its output and exit status with a random marker.
 * Every argv is quoted by the one quoting helper; ids are generated here, never user text.
 */
import { randomBytes } from 'node:crypto';
import { quoteCommand } from '../shell/quote.js';
import type { RunResult } from '../shell/shell.js';

export interface BatchCommand {
  argv: readonly string[];
}

export interface Batch {
  script: string;
  nonce: string;
  count: number;
}

export function buildBatch(commands: readonly BatchCommand[], nonce = randomBytes(8).toString('hex')): Batch {
  const lines: string[] = [];
  commands.forEach((c, i) => {
    lines.push(`echo '@@pve-k3s:${nonce} begin ${i}'`);
    // stderr is folded into the framed output; `echo` guarantees the end marker starts a line.
    lines.push(`${quoteCommand(c.argv)} 2>&1`);
    lines.push('rc=$?');
    lines.push('echo');
    lines.push(`echo "@@pve-k3s:${nonce} end ${i} $rc"`);
  });
  return { script: lines.join('\n') + '\n', nonce, count: commands.length };
}

/**
 * Splits a batch's stdout back into one result per command (stderr is inside stdout).
 * A command whose end marker is missing (the script died) gets code -1.
 */
export function parseBatch(stdout: string, batch: Batch): RunResult[] {
  const results: RunResult[] = Array.from({ length: batch.count }, () => ({ code: -1, stdout: '', stderr: 'no result: the batch script stopped before this command' }));
  const begin = `@@pve-k3s:${batch.nonce} begin `;
  const end = `@@pve-k3s:${batch.nonce} end `;
  let current: number | undefined;
  let buf: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(begin)) {
      current = Number(line.slice(begin.length));
      buf = [];
    } else if (line.startsWith(end) && current !== undefined) {
      const [idText, codeText] = line.slice(end.length).split(' ');
      const id = Number(idText);
      if (id === current && id >= 0 && id < batch.count) {
        // The framing `echo` added exactly one newline after the command's output.
        results[id] = { code: Number(codeText), stdout: buf.join('\n'), stderr: '' };
      }
      current = undefined;
    } else if (current !== undefined) {
      buf.push(line);
    }
  }
  return results;
}
