/**
 * The lab's `Shell`: runs an argv on a simulated Proxmox host in-process, with the injected SSH
 * latency, host-level faults, and the Shell contract (exit codes returned; timeouts, aborts
 * and dropped connections thrown as ShellError).
 */
import { ShellError, invariant } from '../domain/errors.js';
import type { RunOptions, RunResult, Shell } from '../shell/shell.js';
import { argvVmid, consumeFault } from './faults.js';
import { applyEffect, LabConnectionDropped } from './fault-effect.js';
import { execOnHost, HOST_ENV } from './host-exec.js';
import type { ExecContext } from './context.js';
import { findContainer } from './k3s-model.js';
import { pctExecStarted } from './pct.js';
import {
  findResponse,
  newSessionNonce,
  SessionLostError,
  sessionRequest,
  type ScriptSession,
  type SessionRunOptions,
} from '../shell/session.js';

export class LabShell implements Shell {
  constructor(
    readonly host: string,
    private readonly ctx: ExecContext,
  ) {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const work = this.exec([...argv], opts.stdin ?? '');
    return race(this.ctx, work, { ...opts, host: this.host, argv });
  }

  private async exec(argv: string[], stdin: string): Promise<RunResult> {
    const { ctx, host } = this;
    await ctx.sleep(ctx.store.read().timing.sshRttMs);
    // Only take the lock (and rewrite the state) when there are faults to consider.
    const effect =
      ctx.store.read().faults.length === 0
        ? undefined
        : ctx.store.update((s) => consumeFault(s, { level: 'host', host, vmid: argvVmid(argv), argv, stdin }));
    if (effect) {
      const r = await applyEffect(ctx, effect);
      if (r) return r;
    }
    return execOnHost(ctx, host, { argv, env: { ...HOST_ENV }, stdin });
  }

  /** A lab session: `pct exec <vmid> -- sh -s` pays its start (SSH round trip + pct) once, then one round trip per script. */
  openSession(argv: readonly string[]): ScriptSession {
    return new LabSession(this.host, this.ctx, [...argv]);
  }

  async close(): Promise<void> {}
}

/**
 * Simulates a session as ProcessSession sees a real one: the request line goes to the
 * container's sh (so framing, subshell and eval are exercised), faults apply as for one
 * `pct exec`, and a container that stopped ends the session.
 */
class LabSession implements ScriptSession {
  #alive = true;
  #busy = false;
  #why = '';
  #id = 0;
  readonly #nonce = newSessionNonce();
  readonly #ready: Promise<void>;
  readonly #vmid: number | undefined;

  constructor(
    readonly host: string,
    private readonly ctx: ExecContext,
    private readonly argv: string[],
  ) {
    const isPctSh =
      argv[0] === 'pct' && argv[1] === 'exec' && /^\d+$/.test(argv[2] ?? '') && argv[3] === '--' && argv[4] === 'sh' && argv.length <= 6;
    this.#vmid = isPctSh ? Number(argv[2]) : undefined;
    this.#ready = (async () => {
      const t = ctx.store.read().timing;
      await ctx.sleep(t.sshRttMs);
      if (this.#vmid === undefined) return this.#end(`the lab models sessions of pct exec <vmid> -- sh only`);
      if (!this.#running()) return this.#end(`container '${this.#vmid}' not running!`);
      await ctx.sleep(t.pctExecMs);
    })();
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
      await this.#ready;
      if (!this.#alive)
        throw new SessionLostError(`the session (${this.argv.join(' ')}) on ${this.host} is not running: ${this.#why}`, { started: false });
      return await race(this.ctx, this.#request(script), { ...opts, host: this.host, argv: this.argv }).catch((e: unknown) => {
        if (e instanceof ShellError && !e.unreachable) this.#end('stopped'); // a timeout or abort stops the session
        throw e;
      });
    } finally {
      this.#busy = false;
    }
  }

  async #request(script: string): Promise<RunResult> {
    const { ctx, host } = this;
    await ctx.sleep(ctx.store.read().timing.sshRttMs);
    const effect =
      ctx.store.read().faults.length === 0
        ? undefined
        : ctx.store.update((s) => consumeFault(s, { level: 'host', host, vmid: this.#vmid, argv: this.argv, stdin: script }));
    if (effect) {
      try {
        const r = await applyEffect(ctx, effect);
        if (r) return r;
      } catch (e) {
        if (e instanceof LabConnectionDropped) {
          this.#end(e.message);
          throw new SessionLostError(`the session (${this.argv.join(' ')}) on ${host} ended while a command ran: ${e.message}`, {
            started: true,
          });
        }
        throw e;
      }
    }
    if (!this.#running()) {
      this.#end(`container '${this.#vmid}' not running!`);
      throw new SessionLostError(`the session (${this.argv.join(' ')}) on ${host} ended: the container stopped`, { started: false });
    }
    const id = this.#id++;
    const r = await pctExecStarted(
      ctx,
      { host, vmid: this.#vmid! },
      { argv: ['sh', '-s'], stdin: sessionRequest(script, this.#nonce, id) },
    );
    const found = findResponse(r, { nonce: this.#nonce, id, ended: true });
    if (found.result) return found.result;
    this.#end(r.stderr.trim());
    throw new SessionLostError(
      `the session (${this.argv.join(' ')}) on ${host} ended while a command ran: ${r.stderr.trim() || `exit ${r.code}`}`,
      { started: found.started },
    );
  }

  #running(): boolean {
    const loc = findContainer(this.ctx.store.read(), this.host, this.#vmid ?? -1);
    return loc?.ct.status === 'running';
  }

  #end(why: string): void {
    this.#alive = false;
    this.#why ||= why;
  }

  async close(): Promise<void> {
    await this.#ready;
    this.#end('closed');
  }
}

/**
 * Applies timeoutMs/signal and maps a dropped connection, never dropping exit codes. The timeout
 * runs on the lab's clock: the simulated host is what takes that long.
 */
export async function race(
  ctx: ExecContext,
  work: Promise<RunResult>,
  opts: Pick<RunOptions, 'timeoutMs' | 'signal'> & { host: string; argv: readonly string[] },
): Promise<RunResult> {
  const { host, argv } = opts;
  const what = argv.join(' ').slice(0, 80);
  const stopTimer = new AbortController();
  let onAbort: (() => void) | undefined;
  const guards: Array<Promise<never>> = [];
  if (opts.timeoutMs !== undefined) {
    const ms = opts.timeoutMs;
    guards.push(
      ctx.sleep(ms, stopTimer.signal).then(
        () => Promise.reject(new ShellError(`${host}: "${what}" timed out after ${ms} ms`, { host, timedOut: true })),
        () => new Promise<never>(() => {}), // the command ended first
      ),
    );
  }
  if (opts.signal) {
    const signal = opts.signal;
    if (signal.aborted) throw new ShellError(`${host}: "${what}" aborted`, { host });
    guards.push(
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new ShellError(`${host}: "${what}" aborted`, { host }));
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    );
  }
  try {
    return await Promise.race([work, ...guards]);
  } catch (e) {
    if (e instanceof LabConnectionDropped) {
      throw new ShellError(`${host}: connection lost while running "${what}"`, { host, unreachable: true, detail: e.message, cause: e });
    }
    throw e;
  } finally {
    stopTimer.abort();
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    work.catch(() => {}); // a timed-out command may still fail later; nobody is listening
  }
}
