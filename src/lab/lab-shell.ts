/**
 * The lab's `Shell`: runs an argv on a simulated Proxmox host in-process, with the injected SSH
 * latency, host-level faults, and the Shell contract (exit codes returned; timeouts, aborts
 * and dropped connections thrown as ShellError).
 */
import { ShellError } from '../core/errors.js';
import type { RunOptions, RunResult, Shell } from '../shell/shell.js';
import { argvVmid, consumeFault } from './faults.js';
import { applyEffect, LabConnectionDropped } from './fault-effect.js';
import { execOnHost, HOST_ENV } from './host-exec.js';
import type { ExecContext } from './context.js';

export class LabShell implements Shell {
  constructor(readonly host: string, private readonly ctx: ExecContext) {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const work = this.exec([...argv], opts.stdin ?? '');
    return race(work, this.host, argv, opts);
  }

  private async exec(argv: string[], stdin: string): Promise<RunResult> {
    const { ctx, host } = this;
    await ctx.sleep(ctx.store.read().timing.sshRttMs);
    // Only take the lock (and rewrite the state) when there are faults to consider.
    const effect = ctx.store.read().faults.length === 0 ? undefined : ctx.store.update((s) => consumeFault(s, { level: 'host', host, vmid: argvVmid(argv), argv, stdin }));
    if (effect) {
      const r = await applyEffect(ctx, effect);
      if (r) return r;
    }
    return execOnHost(ctx, host, argv, { ...HOST_ENV }, stdin);
  }

  async close(): Promise<void> {}
}

/** Applies timeoutMs/signal and maps a dropped connection, never dropping exit codes. */
async function race(work: Promise<RunResult>, host: string, argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  const what = argv.join(' ').slice(0, 80);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guards: Array<Promise<never>> = [];
  if (opts.timeoutMs !== undefined) {
    guards.push(new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ShellError(`${host}: "${what}" timed out after ${opts.timeoutMs} ms`, { host, timedOut: true })), opts.timeoutMs);
    }));
  }
  if (opts.signal) {
    const signal = opts.signal;
    if (signal.aborted) throw new ShellError(`${host}: "${what}" aborted`, { host });
    guards.push(new Promise<never>((_, reject) => {
      onAbort = () => reject(new ShellError(`${host}: "${what}" aborted`, { host }));
      signal.addEventListener('abort', onAbort, { once: true });
    }));
  }
  try {
    return await Promise.race([work, ...guards]);
  } catch (e) {
    if (e instanceof LabConnectionDropped) {
      throw new ShellError(`${host}: connection lost while running "${what}"`, { host, unreachable: true, detail: e.message, cause: e });
    }
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    work.catch(() => {}); // a timed-out command may still fail later; nobody is listening
  }
}
