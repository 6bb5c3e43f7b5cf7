/** The Shell used when pve-k3s runs on the Proxmox host itself: argv runs with no shell. */
import { ShellError } from '../domain/errors.js';
import type { RunOptions, RunResult, Shell } from './shell.js';
import { quoteCommand } from './quote.js';
import { assertArgv, spawnProcess, summarize } from './spawn.js';
import { ProcessSession, spawnSessionProcess, type ScriptSession } from './session.js';
import { humanDuration } from '../domain/duration.js';

export interface LocalShellOptions {
  /** The host's name in the inventory (used in messages). @default 'localhost' */
  host?: string;
  /** Variables added to the inherited environment. @default none */
  env?: Record<string, string>;
  /** Replaces PATH for the commands and for finding them (tests put fixtures first). @default inherited PATH */
  path?: string;
}

/** Runs argvs as local processes (pve-k3s on the Proxmox host itself): no shell, nothing quoted. */
export class LocalShell implements Shell {
  readonly host: string;
  readonly #env: Record<string, string> | undefined;

  constructor(opts: LocalShellOptions = {}) {
    this.host = opts.host ?? 'localhost';
    const env = { ...opts.env, ...(opts.path === undefined ? {} : { PATH: opts.path }) };
    this.#env = Object.keys(env).length === 0 ? undefined : env;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    assertArgv(argv);
    const [file, ...args] = argv;
    const out = await spawnProcess(file, args, { ...opts, env: this.#env });
    switch (out.kind) {
      case 'exited':
        return { code: out.code, stdout: out.stdout, stderr: out.stderr };
      case 'spawn-error':
        // Same statuses and wording a shell would give, so callers handle local and ssh alike.
        if (out.errno === 'ENOENT') return { code: 127, stdout: '', stderr: `sh: 1: ${file}: not found\n` };
        if (out.errno === 'EACCES') return { code: 126, stdout: '', stderr: `sh: 1: ${file}: Permission denied\n` };
        throw new ShellError(`cannot run ${summarize(file)} on ${this.host}: ${out.message}`, { host: this.host, detail: out.message });
      case 'timed-out':
        throw new ShellError(
          `command timed out after ${humanDuration(opts.timeoutMs ?? 0)} on ${this.host}: ${summarize(quoteCommand(argv))}`,
          {
            host: this.host,
            timedOut: true,
            detail: out.stderr || undefined,
          },
        );
      case 'aborted':
        throw new ShellError(`command aborted on ${this.host}: ${summarize(quoteCommand(argv))}`, {
          host: this.host,
          detail: out.stderr || undefined,
          cause: opts.signal?.reason,
        });
      case 'output-too-large':
        throw new ShellError(`command printed too much output on ${this.host}: ${summarize(quoteCommand(argv))}`, { host: this.host });
    }
  }

  openSession(argv: readonly string[]): ScriptSession {
    assertArgv(argv);
    const [file, ...args] = argv;
    return new ProcessSession(this.host, summarize(quoteCommand(argv), 60), () => spawnSessionProcess(file, args, this.#env));
  }

  async close(): Promise<void> {}
}
