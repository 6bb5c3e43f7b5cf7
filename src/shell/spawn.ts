/**
 * Runs one local process (the command itself, or the `ssh` client) and reports how it ended,
 * without throwing: the shells turn each outcome into a RunResult or a ShellError.
 */
import { constants } from 'node:os';

export interface SpawnOptions {
  stdin?: string | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Variables added to (not replacing) the inherited environment. */
  env?: Record<string, string> | undefined;
}

export type SpawnOutcome =
  | { kind: 'exited'; code: number; stdout: string; stderr: string }
  | { kind: 'timed-out'; stdout: string; stderr: string }
  | { kind: 'aborted'; stdout: string; stderr: string }
  | { kind: 'output-too-large'; stdout: string; stderr: string }
  | { kind: 'spawn-error'; errno: string | undefined; message: string };

/** Far above anything pct or kubectl prints; hitting it is an error, never a silent cut. */
const MAX_BUFFER = 512 * 1024 * 1024;

/** Check an argv before it reaches a process or a quoter: a programming error, not a ShellError. */
export function assertArgv(argv: readonly string[]): asserts argv is readonly [string, ...string[]] {
  if (!Array.isArray(argv) || argv.length === 0) throw new TypeError('argv must be a non-empty array');
  for (const a of argv) {
    if (typeof a !== 'string') throw new TypeError(`argv entries must be strings, got ${typeof a}`);
    if (a.includes('\0')) throw new TypeError('an argument cannot contain a NUL byte');
  }
}

/** How long a stopped command's process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;
/** How long output is still read after a stopped process has exited. */
const RELEASE_PIPES_MS = 250;

/**
 * Run `file args` in its own process group. On timeout or abort the WHOLE group is killed:
 * killing only the child would leave grandchildren (sleep, lxc-attach...) holding the output
 * pipes open, and the call would hang until they exit.
 */
export async function spawnProcess(file: string, args: readonly string[], opts: SpawnOptions): Promise<SpawnOutcome> {
  if (opts.signal?.aborted) return { kind: 'aborted', stdout: '', stderr: '' };
  // Loaded here, not at the top, so the CLI's cold start does not pay for execa.
  const { execa } = await import('execa');
  const sub = execa(file, args, {
    ...(opts.stdin === undefined ? { stdin: 'ignore' as const } : { input: opts.stdin }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
    extendEnv: true,
    detached: true,
    reject: false,
    stripFinalNewline: false,
    encoding: 'utf8',
    maxBuffer: MAX_BUFFER,
  });
  let stopped: 'timed-out' | 'aborted' | undefined;
  let forceKill: NodeJS.Timeout | undefined;
  let releaseTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'timed-out' | 'aborted'): void => {
    if (stopped !== undefined) return;
    stopped = why;
    killGroup(sub.pid, 'SIGTERM');
    forceKill = setTimeout(() => killGroup(sub.pid, 'SIGKILL'), KILL_GRACE_MS);
    // A process may have handed its pipes on (an ssh mux client passes them to the master, which
    // keeps them while the remote command runs): stop reading shortly after the process is gone.
    const release = (): void => {
      releaseTimer = setTimeout(() => {
        sub.stdout?.destroy();
        sub.stderr?.destroy();
      }, RELEASE_PIPES_MS);
    };
    if (sub.exitCode !== null || sub.signalCode !== null) release();
    else sub.once('exit', release);
  };
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => stop('timed-out'), opts.timeoutMs);
  const onAbort = (): void => stop('aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let r;
  try {
    r = await sub;
  } finally {
    clearTimeout(timer);
    clearTimeout(forceKill);
    clearTimeout(releaseTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const stdout = typeof r.stdout === 'string' ? r.stdout : '';
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  if (stopped !== undefined) return { kind: stopped, stdout, stderr };
  if (r.isMaxBuffer) return { kind: 'output-too-large', stdout, stderr };
  if (typeof r.exitCode === 'number') return { kind: 'exited', code: r.exitCode, stdout, stderr };
  if (r.signal !== undefined) {
    // Killed by a signal it did not ask for (OOM killer...): report it the way a shell does.
    return { kind: 'exited', code: 128 + (constants.signals[r.signal] ?? 0), stdout, stderr };
  }
  const errno = (r as { code?: unknown }).code;
  return {
    kind: 'spawn-error',
    errno: typeof errno === 'string' ? errno : undefined,
    message: r.originalMessage ?? r.shortMessage ?? 'spawn failed',
  };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** A short, printable form of an argv for error messages. */
export function summarize(commandLine: string, max = 120): string {
  const oneLine = commandLine.replace(/\s+/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
