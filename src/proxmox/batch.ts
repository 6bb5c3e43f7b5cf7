/**
 * Several commands in ONE remote round trip: a POSIX sh script (sent on stdin to `sh -s`)
 * that runs each argv in turn and frames its stdout, its stderr and its exit status apart,
 * on the script's own stdout and stderr, with a random marker (shell/frames.ts).
 * Every argv is quoted by the one quoting helper; ids are generated here, never user text.
 */
import { randomBytes } from 'node:crypto';
import { quoteArg, quoteCommand } from '../shell/quote.js';
import { beginMarker, endMarkerPrefix, outsideFrames, readFrames } from '../shell/frames.js';
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
  /**
   * With `parallel`: run more at once where the host has more cores than that (its `nproc`,
   * read by the script): twice, four times... `parallel`, up to every command, never more than
   * the host's cores nor more than MAX_WIDE. @default false
   */
  widen?: boolean;
  nonce?: string;
}

export function buildBatch(commands: readonly BatchCommand[], opts: BatchOptions | string = {}): Batch {
  const o = typeof opts === 'string' ? { nonce: opts } : opts;
  const nonce = o.nonce ?? randomBytes(8).toString('hex');
  const parallel = Math.max(1, o.parallel ?? 1);
  const script =
    parallel > 1 && commands.length > 1
      ? parallelScript(commands, { nonce, parallel, widen: o.widen ?? false })
      : sequentialScript(commands, nonce, o.stopOnFailure ?? false);
  return { script, nonce, count: commands.length };
}

function sequentialScript(commands: readonly BatchCommand[], nonce: string, stopOnFailure: boolean): string {
  const lines: string[] = [];
  commands.forEach((c, i) => {
    // The same begin marker on both streams; `echo` guarantees each end marker starts a line.
    lines.push(`echo '${beginMarker(nonce, i)}'`, `echo '${beginMarker(nonce, i)}' >&2`);
    // stdin from /dev/null: the script itself arrives on the shell's stdin (`sh -s`), and a
    // command that reads stdin (pct exec forwards it) would eat the rest of it.
    lines.push(`${quoteCommand(c.argv)} </dev/null`);
    lines.push('rc=$?');
    lines.push(`echo >&2`, `echo "${endMarkerPrefix(nonce, i)}$rc" >&2`);
    lines.push('echo', `echo "${endMarkerPrefix(nonce, i)}$rc"`);
    if (stopOnFailure && i < commands.length - 1) lines.push('[ "$rc" -eq 0 ] || exit "$rc"');
  });
  return lines.join('\n') + '\n';
}

/** The most commands a widened batch runs at once, whatever the host's core count. */
export const MAX_WIDE = 64;

/** How many at once a batch of `count` may run: `parallel`, then doubled while below the count (capped). */
export function widths(count: number, o: { parallel: number; widen: boolean }): number[] {
  const first = Math.min(count, o.parallel);
  const out = [first];
  if (!o.widen) return out;
  for (let w = first * 2; out.at(-1)! < Math.min(count, MAX_WIDE); w *= 2) out.push(Math.min(w, count, MAX_WIDE));
  return out;
}

/**
 * Runs the commands as background jobs in `width` lanes (lane k runs commands k, k+width, ...
 * one after another, so a slow command holds only its own lane, not a whole wave), each command
 * writing its stdout, stderr and exit status to files in a fresh private directory, then prints
 * them framed in order. With `widen`, the script picks the widest lane count the host's cores
 * allow (`nproc`; without it, `parallel`). Used only for host-level probes; the directory is
 * private to root (mode 0700) all the same.
 */
function parallelScript(commands: readonly BatchCommand[], o: { nonce: string; parallel: number; widen: boolean }): string {
  const dir = `/tmp/pve-k3s-batch-${o.nonce}`;
  // Private: the outputs (units, config files) are nobody else's to read on the host.
  const lines = [`d=${dir}`, 'mkdir -m 700 "$d" || exit 1'];
  // Each command's job once, in a variable the lanes run.
  commands.forEach((c, i) => lines.push(`j${i}=${quoteArg(`${quoteCommand(c.argv)} </dev/null >"$1.out" 2>"$1.err"; echo $? >"$1.rc"`)}`));
  const lanes = (width: number): string[] =>
    Array.from({ length: width }, (_, k) => {
      const jobs: string[] = [];
      for (let i = k; i < commands.length; i += width) jobs.push(`sh -c "$j${i}" sh "$d/${i}"`);
      return `( ${jobs.join('; ')} ) &`;
    });
  const ws = widths(commands.length, o);
  if (ws.length === 1) lines.push(...lanes(ws[0]!));
  else {
    // The widest the host's cores allow (no `if`: the lab's sh runs and-or lists only).
    lines.push('c=$(nproc 2>/dev/null || echo 0)', `w=${ws[0]}`, ...ws.slice(1).map((w) => `[ "$c" -ge ${w} ] && w=${w}`));
    for (const w of ws) lines.push(...lanes(w).map((l) => `[ "$w" = ${w} ] && ${l}`));
  }
  lines.push('wait');
  commands.forEach((_c, i) => {
    lines.push(`rc=$(cat "$d/${i}.rc")`);
    lines.push(`echo '${beginMarker(o.nonce, i)}'`, `cat "$d/${i}.out"`, 'echo', `echo "${endMarkerPrefix(o.nonce, i)}$rc"`);
    lines.push(
      `echo '${beginMarker(o.nonce, i)}' >&2`,
      `cat "$d/${i}.err" >&2`,
      'echo >&2',
      `echo "${endMarkerPrefix(o.nonce, i)}$rc" >&2`,
    );
  });
  lines.push('rm -rf "$d"');
  return lines.join('\n') + '\n';
}

export const NO_RESULT = 'no result: the batch script stopped before this command';

/**
 * Splits a batch's two streams back into one result per command: its stdout from the stdout
 * frames, its stderr from the stderr frames, its exit status from the end marker. A command
 * whose frame is missing (the script died, pct could not start it) gets code -1, and as its
 * stderr what the batch's stderr holds outside the frames (pct's or the shell's own words).
 */
export function parseBatch(r: Pick<RunResult, 'stdout' | 'stderr'>, batch: Batch): RunResult[] {
  const out = readFrames(r.stdout, batch.nonce, batch.count);
  const err = readFrames(r.stderr, batch.nonce, batch.count);
  const unframed = outsideFrames(r.stderr, batch.nonce, batch.count).trim();
  return Array.from({ length: batch.count }, (_, id) => {
    const o = out.get(id);
    if (!o || Number.isNaN(o.code)) return { code: -1, stdout: '', stderr: unframed === '' ? NO_RESULT : `${NO_RESULT}: ${unframed}` };
    return { code: o.code, stdout: o.body, stderr: err.get(id)?.body ?? '' };
  });
}

/** Several commands run by a shell that is itself one command (`pct exec <vmid> -- sh -c <script>`). */
export interface NestedBatch {
  /** The one command: `prefix`, then `sh -c` and the inner batch's script. */
  argv: string[];
  inner: Batch;
}

/**
 * A sequential framed batch (its own nonce) run as ONE command, `[...prefix, 'sh', '-c', script]`
 * (with prefix `pct exec <vmid> --`: one pct start for all of them, the script run by the
 * container's sh). nestedResults() splits that command's result back into one per inner command.
 */
export function buildNestedBatch(prefix: readonly string[], commands: readonly BatchCommand[]): NestedBatch {
  const inner = buildBatch(commands);
  return { argv: [...prefix, 'sh', '-c', inner.script], inner };
}

/**
 * One result per inner command, each as that command run alone gives it. When the one command
 * failed before its script ran any of them (pct refusing, the container not running: no inner
 * frame at all), every command gets that failure, pct's own words and a non-zero code, as
 * Kube.batch does; a command whose frame alone is missing (the script died) gets code -1.
 */
export function nestedResults(outer: RunResult, nested: NestedBatch): RunResult[] {
  const results = parseBatch(outer, nested.inner);
  if (results.some((r) => r.code !== -1)) return results;
  return results.map(() => ({ code: outer.code === 0 ? 1 : outer.code, stdout: outer.stdout, stderr: outer.stderr }));
}
