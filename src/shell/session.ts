/**
 * Script sessions: one long-lived `sh` (for pve-k3s, `pct exec <vmid> -- sh` in a container)
 * fed scripts one at a time on its stdin, so a container pays pct's start (a Perl process and
 * lxc-attach, 0.3-0.5 s on a real host) once instead of once per command.
 *
 * The protocol is one line per request, so any POSIX sh runs it as it arrives:
 *
 *   printf '%s\n' '@@pve-k3s:<nonce> begin <id>'; printf '%s\n' '@@pve-k3s:<nonce> begin <id>' >&2;
 *   ( eval "$(printf '<script as a printf format>')" ) </dev/null; rc=$?;
 *   printf '\n@@pve-k3s:<nonce> end <id> %s\n' "$rc" >&2; printf '\n@@pve-k3s:<nonce> end <id> %s\n' "$rc"
 *
 * - the script runs in a subshell: its `set -e`, variables and `exit` end there, never the
 *   session; its stdin is /dev/null, so no command can eat the requests that follow;
 * - its stdout and its stderr are framed apart, each on the session's own stream, with the
 *   same nonce (frames.ts); the exit status is in the end markers;
 * - the script travels inside the session's stdin and is expanded by printf, a shell builtin:
 *   it never appears in a command line (secrets stay out of process lists).
 * The begin marker says the script started: a session that dies before it is "lost, not
 * started" (the caller may run the command another way); after it, the outcome is unknown.
 */
import { randomBytes } from 'node:crypto';
import { ShellError, invariant } from '../domain/errors.js';
import { beginMarker, endMarkerPrefix, findFrame } from './frames.js';
import { quoteArg } from './quote.js';
import type { RunResult, ScriptSession, SessionRunOptions } from './shell.js';
import { humanDuration } from '../domain/duration.js';

export type { ScriptSession, SessionRunOptions } from './shell.js';

/** The session ended before the script started (`started` false: nothing ran) or while it ran. */
export class SessionLostError extends Error {
  readonly started: boolean;
  readonly detail: string | undefined;
  constructor(message: string, opts: { started: boolean; detail?: string | undefined }) {
    super(message);
    this.name = 'SessionLostError';
    this.started = opts.started;
    this.detail = opts.detail;
  }
}

export function newSessionNonce(): string {
  return randomBytes(8).toString('hex');
}

/** The script as a printf format that prints it back verbatim (`\` and `%` escaped, newlines as \n). */
export function printfFormat(script: string): string {
  return script.replace(/\\/g, '\\\\').replace(/%/g, '%%').replace(/\n/g, '\\n');
}

/** The one line that runs `script` as request `id` of a session. */
export function sessionRequest(script: string, nonce: string, id: number): string {
  if (!/^[0-9a-f]+$/.test(nonce)) throw new TypeError('a session nonce is hex');
  if (script.includes('\0')) throw new TypeError('a script cannot contain a NUL byte');
  const begin = `'${beginMarker(nonce, id)}'`;
  const end = `'\\n${endMarkerPrefix(nonce, id)}%s\\n' "$rc"`;
  return (
    `printf '%s\\n' ${begin}; printf '%s\\n' ${begin} >&2; ` +
    `( eval "$(printf ${quoteArg(printfFormat(script))})" ) </dev/null; rc=$?; ` +
    `printf ${end} >&2; printf ${end}\n`
  );
}

export interface SessionResponse {
  /** The begin marker was seen: the script started. */
  started: boolean;
  /** The end markers were seen on both streams: the script ended with this result. */
  result?: RunResult;
  /** How much of each buffer the complete response used (0 until it is complete). */
  consumed: { stdout: number; stderr: number };
}

/**
 * Finds request `id`'s response in what the session printed so far on its two streams.
 * Anything before the begin markers (a login banner, ssh's or pct's warnings) is skipped; the
 * newline printed before each end marker is not part of the output. `ended`: the session's
 * process is gone, so a stderr frame that never came is not waited for.
 */
export function findResponse(
  out: { stdout: string; stderr: string },
  { nonce, id, ended = false }: { nonce: string; id: number; ended?: boolean },
): SessionResponse {
  const o = findFrame(out.stdout, { nonce, id });
  const none = { stdout: 0, stderr: 0 };
  if (!o.frame) return { started: o.started, consumed: none };
  const e = findFrame(out.stderr, { nonce, id });
  if (!e.frame && !ended) return { started: true, consumed: none };
  const code = Number.isInteger(o.frame.code) ? o.frame.code : 1;
  return {
    started: true,
    result: { code, stdout: o.frame.body, stderr: e.frame?.body ?? '' },
    consumed: { stdout: o.frame.end, stderr: e.frame?.end ?? 0 },
  };
}

/** What ProcessSession needs from a spawned process. */
export interface SessionProcess {
  write(text: string): void;
  onStdout(cb: (chunk: string) => void): void;
  onStderr(cb: (chunk: string) => void): void;
  /** Called once when the process has ended. */
  onExit(cb: (code: number | null) => void): void;
  /** Ends stdin (a shell then exits). */
  end(): void;
  /** Stops the process (and its children). */
  kill(): void;
}

/** A session whose shell is a local process (the `ssh` client, or `pct` itself on the host). */
export class ProcessSession implements ScriptSession {
  readonly #host: string;
  readonly #what: string;
  readonly #nonce = newSessionNonce();
  #proc: SessionProcess | undefined;
  #starting: Promise<void>;
  #alive = true;
  #busy = false;
  #nextId = 0;
  #out = '';
  /** stderr not yet consumed by a response (its frames), and the last of it for messages. */
  #errFrames = '';
  #err = '';
  #waiter: (() => void) | undefined;

  /** `start` spawns the process (it may first connect, e.g. the ssh master); `what` names it in messages. */
  constructor(host: string, what: string, start: () => Promise<SessionProcess>) {
    this.#host = host;
    this.#what = what;
    this.#starting = start().then(
      (p) => {
        this.#proc = p;
        p.onStdout((c) => {
          this.#out += c;
          this.#waiter?.();
        });
        p.onStderr((c) => {
          this.#errFrames += c;
          this.#err = (this.#err + c).slice(-4000);
          this.#waiter?.();
        });
        p.onExit(() => {
          this.#alive = false;
          this.#waiter?.();
        });
        if (!this.#alive) p.kill();
      },
      (e: unknown) => {
        this.#alive = false;
        this.#err = e instanceof Error ? e.message : String(e);
      },
    );
  }

  get alive(): boolean {
    return this.#alive;
  }

  get busy(): boolean {
    return this.#busy;
  }

  async run(script: string, opts: SessionRunOptions = {}): Promise<RunResult> {
    invariant(!this.#busy, 'a session runs one script at a time');
    this.#busy = true;
    try {
      await this.#starting;
      const proc = this.#proc;
      if (!this.#alive || !proc) throw this.#lost(false);
      if (opts.signal?.aborted) throw this.#stopped('aborted', opts);
      const id = this.#nextId++;
      this.#out = '';
      this.#errFrames = '';
      proc.write(sessionRequest(script, this.#nonce, id));
      return await new Promise<RunResult>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (): void => {
          this.#waiter = undefined;
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        };
        const stop = (why: 'timed-out' | 'aborted'): void => {
          finish();
          this.#alive = false;
          proc.kill();
          reject(this.#stopped(why, opts));
        };
        const onAbort = (): void => stop('aborted');
        this.#waiter = () => {
          const r = findResponse({ stdout: this.#out, stderr: this.#errFrames }, { nonce: this.#nonce, id, ended: !this.#alive });
          if (r.result) {
            this.#out = this.#out.slice(r.consumed.stdout);
            this.#errFrames = this.#errFrames.slice(r.consumed.stderr);
            finish();
            resolve(r.result);
          } else if (!this.#alive) {
            finish();
            reject(this.#lost(r.started));
          }
        };
        if (opts.timeoutMs !== undefined) timer = setTimeout(() => stop('timed-out'), opts.timeoutMs);
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiter();
      });
    } finally {
      this.#busy = false;
    }
  }

  async close(): Promise<void> {
    await this.#starting;
    const proc = this.#proc;
    if (!proc || !this.#alive) return;
    this.#alive = false;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        proc.kill();
        resolve();
      }, 2000);
      proc.onExit(() => {
        clearTimeout(t);
        resolve();
      });
      proc.end();
    });
  }

  #lost(started: boolean): SessionLostError {
    const last = this.#err.trim().split('\n').pop() ?? '';
    return new SessionLostError(
      started
        ? `the session (${this.#what}) on ${this.#host} ended while a command ran${last ? `: ${last}` : ''}`
        : `the session (${this.#what}) on ${this.#host} is not running${last ? `: ${last}` : ''}`,
      { started, detail: this.#err.trim() || undefined },
    );
  }

  #stopped(why: 'timed-out' | 'aborted', opts: SessionRunOptions): ShellError {
    const hint = 'the command may still be running in the container until it ends';
    return why === 'timed-out'
      ? new ShellError(`command timed out after ${humanDuration(opts.timeoutMs ?? 0)} on ${this.#host} (${this.#what})`, {
          host: this.#host,
          timedOut: true,
          hint,
        })
      : new ShellError(`command aborted on ${this.#host} (${this.#what})`, { host: this.#host, hint, cause: opts.signal?.reason });
  }
}

/** Spawns `file args` as a session process (its own process group, killed as a whole). */
export async function spawnSessionProcess(file: string, args: readonly string[], env?: Record<string, string>): Promise<SessionProcess> {
  const { spawn } = await import('node:child_process');
  const sub = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: env === undefined ? process.env : { ...process.env, ...env },
  });
  const exits: Array<(code: number | null) => void> = [];
  let exited: { code: number | null } | undefined;
  sub.stdout?.setEncoding('utf8');
  sub.stderr?.setEncoding('utf8');
  sub.stdin?.on('error', () => {}); // EPIPE when the process died: seen through exit
  const ended = (code: number | null): void => {
    if (exited) return;
    exited = { code };
    for (const cb of exits.splice(0)) cb(code);
  };
  sub.once('close', (code) => ended(typeof code === 'number' ? code : null));
  sub.once('error', () => {
    if (sub.pid === undefined) ended(null); // it never started (no such program)
  });
  const killGroup = (signal: NodeJS.Signals): void => {
    if (sub.pid === undefined) return;
    try {
      process.kill(-sub.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    write: (text) => {
      sub.stdin?.write(text);
    },
    onStdout: (cb) => sub.stdout?.on('data', (c: string) => cb(c)),
    onStderr: (cb) => sub.stderr?.on('data', (c: string) => cb(c)),
    onExit: (cb) => (exited ? cb(exited.code) : exits.push(cb)),
    end: () => sub.stdin?.end(),
    kill: () => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 2000).unref();
    },
  };
}
