/** What a failed command said, for messages. */
import type { RunResult } from './shell.js';

const MAX_LINES = 20;
const MAX_LINE = 400;
const WARNING = /^(Warning: |W\d{4} \d\d:\d\d:\d\d)/;

/**
 * Why a command failed, in its own words: all of its stderr (its stdout when stderr is empty,
 * as `systemctl is-active` answers there), trimmed: blank lines at either end dropped, runs of
 * the same line (kubectl's eviction retries) said once with their count, very long lines cut,
 * and more than 20 lines shortened to the first and the last ones. `exit status N` when it
 * said nothing. Warnings (kubectl's and the apiserver's `Warning: ...`, klog's `W0102 15:04:05`
 * lines) are not reasons: they are left out when something else was said. `singleLine`: the
 * same lines joined by "; ", for a status or a progress line.
 */
export function failureReason(r: Pick<RunResult, 'code' | 'stdout' | 'stderr'>, o: { singleLine?: boolean } = {}): string {
  const text = r.stderr.trim() !== '' ? r.stderr : r.stdout;
  const lines: string[] = [];
  let last: string | undefined;
  let repeats = 0;
  const flush = (): void => {
    if (last === undefined) return;
    lines.push(repeats > 1 ? `${last} (${repeats} times)` : last);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const cut = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line;
    if (cut === last && cut !== '') {
      repeats++;
      continue;
    }
    flush();
    last = cut;
    repeats = 1;
  }
  flush();
  const reasons = lines.filter((l) => !WARNING.test(l));
  if (reasons.some((l) => l.trim() !== '')) lines.splice(0, lines.length, ...reasons);
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) return `exit status ${r.code}`;
  let kept = lines;
  if (lines.length > MAX_LINES) {
    const head = lines.slice(0, 8);
    const tail = lines.slice(-(MAX_LINES - 9));
    kept = [...head, `… (${lines.length - head.length - tail.length} more lines)`, ...tail];
  }
  return o.singleLine
    ? kept
        .map((l) => l.trim())
        .filter(Boolean)
        .join('; ')
    : kept.join('\n');
}
