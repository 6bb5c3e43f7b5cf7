/**
 * Several commands in ONE remote round trip: a POSIX sh script (sent on stdin to `sh -s`)
 * that runs each argv in turn and frames its output and exit status with a random marker.
 * Every argv is quoted by the one quoting helper; ids are generated here, never user text.
 */
import { randomBytes } from 'node:crypto';
import { quoteArg, quoteCommand } from '../shell/quote.js';
import type { RunResult } from '../shell/shell.js';

export interface BatchCommand {
  argv: readonly string[];
}

export interface Batch {
  script: string;
  nonce: string;
  count: number;
}

export interface BatchOptions {
  /** Sequential batches: stop at the first command that fails (the rest get no result, code -1). @default false */
  stopOnFailure?: boolean;
  /** Run up to this many commands at once (host-level probes; each `pct exec` costs a Perl start on a real host). @default 1 */
  parallel?: number;
  nonce?: string;
}

export function buildBatch(commands: readonly BatchCommand[], opts: BatchOptions | string = {}): Batch {
  const o = typeof opts === 'string' ? { nonce: opts } : opts;
  const nonce = o.nonce ?? randomBytes(8).toString('hex');
  const parallel = Math.max(1, o.parallel ?? 1);
  const script =
    parallel > 1 && commands.length > 1
      ? parallelScript(commands, nonce, parallel)
      : sequentialScript(commands, nonce, o.stopOnFailure ?? false);
  return { script, nonce, count: commands.length };
}

function sequentialScript(commands: readonly BatchCommand[], nonce: string, stopOnFailure: boolean): string {
  const lines: string[] = [];
  commands.forEach((c, i) => {
    lines.push(`echo '@@pve-k3s:${nonce} begin ${i}'`);
    // stderr is folded into the framed output; `echo` guarantees the end marker starts a line.
    lines.push(`${quoteCommand(c.argv)} 2>&1`);
    lines.push('rc=$?');
    lines.push('echo');
    lines.push(`echo "@@pve-k3s:${nonce} end ${i} $rc"`);
    if (stopOnFailure && i < commands.length - 1) lines.push('[ "$rc" -eq 0 ] || exit "$rc"');
  });
  return lines.join('\n') + '\n';
}

/**
 * Runs the commands as background jobs, `parallel` at a time, each writing its output and
 * exit status to files in a fresh private directory, then prints them framed in order.
 * Used only for host-level probes, whose output holds no secrets.
 */
function parallelScript(commands: readonly BatchCommand[], nonce: string, parallel: number): string {
  const dir = `/tmp/pve-k3s-batch-${nonce}`;
  const lines = [`d=${dir}`, 'mkdir "$d" || exit 1'];
  commands.forEach((c, i) => {
    const job = `${quoteCommand(c.argv)} >"$1.out" 2>&1; echo $? >"$1.rc"`;
    lines.push(`sh -c ${quoteArg(job)} sh "$d/${i}" &`);
    if ((i + 1) % parallel === 0) lines.push('wait');
  });
  lines.push('wait');
  commands.forEach((_c, i) => {
    lines.push(`echo '@@pve-k3s:${nonce} begin ${i}'`);
    lines.push(`cat "$d/${i}.out"`);
    lines.push('echo');
    lines.push(`echo "@@pve-k3s:${nonce} end ${i} $(cat "$d/${i}.rc")"`);
  });
  lines.push('rm -rf "$d"');
  return lines.join('\n') + '\n';
}

/**
 * Splits a batch's stdout back into one result per command (stderr is inside stdout).
 * A command whose end marker is missing (the script died) gets code -1.
 */
export function parseBatch(stdout: string, batch: Batch): RunResult[] {
  const results: RunResult[] = Array.from({ length: batch.count }, () => ({
    code: -1,
    stdout: '',
    stderr: 'no result: the batch script stopped before this command',
  }));
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
