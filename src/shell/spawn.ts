/**
 * Runs one local process (the command itself, or the `ssh` client) and reports how it ended,
 * without throwing: the shells turn each outcome into a RunResult or a ShellError.
 */
import { spawn } from 'node:child_process';
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
 * pipes open, and the call would hang until they exit. Node's own child_process, not execa:
 * every ssh command starts with this, and loading execa cost more of the CLI's cold start
 * (~40-150 ms) than the rest of the command's modules.
 */
export function spawnProcess(file: string, args: readonly string[], opts: SpawnOptions): Promise<SpawnOutcome> {
  if (opts.signal?.aborted) return Promise.resolve({ kind: 'aborted', stdout: '', stderr: '' });
  return new Promise((resolve) => {
    const sub = spawn(file, args, {
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const collect =
      (into: Buffer[]) =>
      (chunk: Buffer): void => {
        size += chunk.length;
        if (size > MAX_BUFFER) {
          if (!tooLarge) killGroup(sub.pid, 'SIGKILL');
          tooLarge = true;
        } else into.push(chunk);
      };
    sub.stdout?.on('data', collect(out));
    sub.stderr?.on('data', collect(err));
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
    let settled = false;
    const finish = (outcome: SpawnOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(forceKill);
      clearTimeout(releaseTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    sub.once('error', (e: NodeJS.ErrnoException) => {
      // Only a process that never started is a spawn error; later errors (a failed kill) are not outcomes.
      if (sub.pid === undefined) finish({ kind: 'spawn-error', errno: e.code, message: e.message });
    });
    if (opts.stdin !== undefined && sub.stdin) {
      sub.stdin.on('error', () => {}); // EPIPE when the process exits without reading it all: seen through its exit
      sub.stdin.end(opts.stdin);
    }
    sub.once('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (stopped !== undefined) finish({ kind: stopped, stdout, stderr });
      else if (tooLarge) finish({ kind: 'output-too-large', stdout, stderr });
      else if (typeof code === 'number') finish({ kind: 'exited', code, stdout, stderr });
      // Killed by a signal it did not ask for (OOM killer...): report it the way a shell does.
      else finish({ kind: 'exited', code: 128 + (signal ? (constants.signals[signal] ?? 0) : 0), stdout, stderr });
    });
  });
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
