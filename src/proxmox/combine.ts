/**
 * Requests that go to the same host at the same moment, sent as ONE: the facts probe and the
 * preflight probe are each a script for `sh -s`, and each its own request costs a second SSH
 * channel (the second waits for the first's master socket, then pays its own session set-up).
 *
 * combineShells() wraps a connection's shells: the `sh -s` requests with stdin made to one host
 * before the next flush (the end of the current turn of the event loop, or flush()) go as one
 * `sh -s` whose script runs each of them as `sh -c <script>` at the same time (proxmox/batch.ts's
 * parallel script: each in the background, outputs in a private 0700 directory, framed on the
 * way back), and each caller gets the stdout, stderr and exit status its script had. Each script
 * keeps its own lanes: their commands are not merged into one batch (that would halve each one's
 * width). A request alone in its turn, and anything that is not `sh -s` with stdin, goes through
 * unchanged.
 *
 * `sh -c <script>` runs a script as `sh -s` does for these scripts: stdin is /dev/null (under
 * `sh -s` it is the rest of the script, which no script of ours reads), `$0` is `sh` and `$1` is
 * empty either way, and the exit status is the script's.
 */
import { ShellError } from '../domain/errors.js';
import { buildBatch, parseBatch } from './batch.js';
import { outsideFrames } from '../shell/frames.js';
import { quoteCommand } from '../shell/quote.js';
import type { RunOptions, RunResult, ScriptSession, Shell } from '../shell/shell.js';

/**
 * The longest a combined script may be, quoted once (`sh -c <script>` as the batch's job runs
 * it): it reaches the host's exec as one argument, and Linux limits one argument to 128 KiB.
 * A longer one goes alone.
 */
export const MAX_COMBINED_SCRIPT = 96 * 1024;

/** Whether `script` can travel as one argument of the combined request. */
export function combinable(script: string): boolean {
  return Buffer.byteLength(quoteCommand(['sh', '-c', script])) <= MAX_COMBINED_SCRIPT;
}

export interface CombinedShells {
  /** The same hosts, each combining its `sh -s` requests. */
  shells: ReadonlyMap<string, Shell>;
  /** Sends what is waiting now (instead of at the end of this turn): the underlying runs are started before this returns. */
  flush(): void;
  /** Requests sent so far per host (each combined request counts once). */
  readonly requests: ReadonlyMap<string, number>;
}

interface Pending {
  script: string;
  opts: RunOptions;
  resolve(r: RunResult): void;
  reject(e: unknown): void;
  /** Settled already (its own signal aborted). */
  done: boolean;
}

export function combineShells(shells: ReadonlyMap<string, Shell>): CombinedShells {
  const waiting = new Map<Shell, Pending[]>();
  const requests = new Map<string, number>();
  let scheduled = false;
  const count = (host: string) => requests.set(host, (requests.get(host) ?? 0) + 1);

  const flush = (): void => {
    scheduled = false;
    const all = [...waiting];
    waiting.clear();
    for (const [shell, group] of all) send(shell, group);
  };

  const alone = (shell: Shell, p: Pending): void => {
    count(shell.host);
    shell.run(['sh', '-s'], { ...p.opts, stdin: p.script }).then(p.resolve, p.reject);
  };

  const send = (shell: Shell, all: Pending[]): void => {
    // One aborted meanwhile goes alone: the shell refuses it at once, in its own words.
    for (const p of all) if (p.opts.signal?.aborted) alone(shell, p);
    const group = all.filter((p) => !p.opts.signal?.aborted);
    if (group.length === 0) return;
    if (group.length === 1) return alone(shell, group[0]!);
    count(shell.host);
    const batch = buildBatch(
      group.map((p) => ({ argv: ['sh', '-c', p.script] })),
      { parallel: group.length },
    );
    const timeouts = group.map((p) => p.opts.timeoutMs);
    const timeoutMs = timeouts.some((t) => t === undefined) ? undefined : Math.max(...(timeouts as number[]));
    const signals = group.map((p) => p.opts.signal);
    const signal = allAborted(signals);
    const opts: RunOptions = { stdin: batch.script, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(signal ? { signal } : {}) };
    const unhooks = group.map((p) => {
      const own = p.opts.signal;
      if (!own) return () => undefined;
      // Aborted while the others still wait for theirs: this caller alone gets its rejection. Once
      // all have aborted, the request itself is stopped and the shell's own error reaches each.
      const onAbort = (): void => {
        if (!signals.every((s) => s?.aborted)) settle(p, () => p.reject(abortError(shell.host, own)));
      };
      own.addEventListener('abort', onAbort, { once: true });
      return () => own.removeEventListener('abort', onAbort);
    });
    const unhook = () => unhooks.forEach((u) => u());
    shell.run(['sh', '-s'], opts).then(
      (r) => {
        unhook();
        const results = parseBatch(r, batch);
        // Text outside the frames (a login banner, ssh's warnings): each caller would have got it too.
        const outside = {
          stdout: outsideFrames(r.stdout, batch.nonce, batch.count),
          stderr: outsideFrames(r.stderr, batch.nonce, batch.count),
        };
        group.forEach((p, i) => {
          const own = results[i]!;
          // No frame: the combining script itself did not run (or died): what it said is each one's answer.
          settle(p, () => p.resolve(own.code === -1 ? r : withOutside(own, outside)));
        });
      },
      (e: unknown) => {
        unhook();
        group.forEach((p) => settle(p, () => p.reject(e)));
      },
    );
  };

  const wrap = (shell: Shell): Shell => {
    const combined: Shell = {
      host: shell.host,
      run(argv, opts = {}) {
        const script = opts.stdin;
        if (argv.length !== 2 || argv[0] !== 'sh' || argv[1] !== '-s' || script === undefined || !combinable(script)) {
          count(shell.host);
          return shell.run(argv, opts);
        }
        return new Promise<RunResult>((resolve, reject) => {
          const p: Pending = { script, opts, resolve, reject, done: false };
          const list = waiting.get(shell);
          if (list) list.push(p);
          else waiting.set(shell, [p]);
          if (!scheduled) {
            scheduled = true;
            // The end of this turn: every request made in it (and in its microtasks) is waiting by then.
            setImmediate(() => scheduled && flush());
          }
        });
      },
      close: () => shell.close(),
    };
    if (shell.openSession) combined.openSession = (argv: readonly string[]): ScriptSession => shell.openSession!(argv);
    return combined;
  };

  return { shells: new Map([...shells].map(([name, s]) => [name, wrap(s)])), flush, requests };
}

function settle(p: Pending, f: () => void): void {
  if (p.done) return;
  p.done = true;
  f();
}

function withOutside(r: RunResult, outside: { stdout: string; stderr: string }): RunResult {
  return {
    code: r.code,
    stdout: outside.stdout.trim() === '' ? r.stdout : outside.stdout + r.stdout,
    stderr: outside.stderr.trim() === '' ? r.stderr : outside.stderr + r.stderr,
  };
}

/** What a shell throws for an aborted `sh -s` (shell/ssh-shell.ts, local-shell.ts). */
function abortError(host: string, signal: AbortSignal): ShellError {
  return new ShellError(`command aborted on ${host}: sh -s`, { host, cause: signal.reason });
}

/** A signal that aborts once every one of `signals` has; none when one of them is absent (that caller waits for its answer). */
function allAborted(signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  if (signals.some((s) => s === undefined)) return undefined;
  const list = signals as AbortSignal[];
  if (list.every((s) => s === list[0])) return list[0];
  const c = new AbortController();
  const check = () => {
    if (list.every((s) => s.aborted)) c.abort(list[0]!.reason);
  };
  for (const s of list) s.addEventListener('abort', check, { once: true });
  return c.signal;
}
