/**
 * The Shell for a remote Proxmox host, through the SYSTEM `ssh` client so the user's
 * ~/.ssh/config, agent and ProxyJump apply. One multiplexed master connection per host;
 * each run() is a cheap session on it. Host keys are always verified by ssh as configured.
 */
import { ShellError } from '../domain/errors.js';
import type { RunOptions, RunResult, Shell } from './shell.js';
import { quoteCommand } from './quote.js';
import { assertArgv, spawnProcess, summarize, type SpawnOutcome } from './spawn.js';
import { controlPathFor, defaultControlDir, ensurePrivateDir } from './control-dir.js';
import { classifySshStderr, sshFailureHint, type SshFailure } from './ssh-failure.js';
import { ProcessSession, spawnSessionProcess, type ScriptSession } from './session.js';
import { humanDuration } from '../domain/duration.js';

/** ssh cannot signal a remote command without a tty: stopping the client only stops waiting. */
const STILL_RUNNING = 'the remote command may still be running on the host until it ends or writes output';

export interface SshShellOptions {
  /** The host's name in the inventory (used in messages). */
  host: string;
  /** What to pass to ssh: an alias from ~/.ssh/config, `host`, or `user@host`. */
  destination: string;
  /** An ssh config file used instead of ~/.ssh/config (`ssh -F`). @default ssh's own default */
  configFile?: string;
  /** Where control sockets live; must give a short path. @default /tmp/pve-k3s-<uid> */
  controlDir?: string;
  /** How long the master stays up after the last session (ssh ControlPersist). @default '60s' */
  controlPersist?: string;
  /** Limit for establishing the first connection. @default 30000 */
  connectTimeoutMs?: number;
  /** Extra ssh arguments placed before the destination, e.g. ['-p', '2222']. @default [] */
  extraOptions?: string[];
  /** The ssh program. @default 'ssh' (found on PATH) */
  sshPath?: string;
}

/** Runs argvs on a Proxmox host through the system `ssh`, quoted once by quoteCommand. */
export class SshShell implements Shell {
  readonly host: string;
  readonly destination: string;
  readonly controlDir: string;
  readonly #opts: SshShellOptions;
  readonly #controlPath: string;
  #connecting: Promise<void> | undefined;

  constructor(opts: SshShellOptions) {
    if (opts.destination === '' || opts.destination.startsWith('-')) {
      throw new TypeError(`invalid ssh destination for ${opts.host}: ${JSON.stringify(opts.destination)}`);
    }
    this.host = opts.host;
    this.destination = opts.destination;
    this.controlDir = opts.controlDir ?? defaultControlDir();
    this.#controlPath = controlPathFor(this.controlDir);
    this.#opts = opts;
  }

  /** Open (or find) the master connection once; concurrent callers share one attempt. */
  connect(): Promise<void> {
    this.#connecting ??= this.#open().catch((e: unknown) => {
      this.#connecting = undefined;
      throw e;
    });
    return this.#connecting;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    assertArgv(argv);
    const remote = quoteCommand(argv);
    await this.connect();
    const out = await this.#ssh(['-T', this.destination, '--', remote], opts);
    switch (out.kind) {
      case 'exited': {
        if (out.code === 255) {
          // 255 is also pct's own error status: only ssh's own words AND a dead master mean ssh failed.
          const failure = classifySshStderr(out.stderr);
          if (failure !== undefined && !(await this.#masterAlive())) throw this.#unreachable(failure, out.stderr);
        }
        return { code: out.code, stdout: out.stdout, stderr: out.stderr };
      }
      case 'timed-out':
        throw new ShellError(`command timed out after ${humanDuration(opts.timeoutMs ?? 0)} on ${this.host}: ${summarize(remote)}`, {
          host: this.host,
          timedOut: true,
          hint: STILL_RUNNING,
          detail: out.stderr || undefined,
        });
      case 'aborted':
        throw new ShellError(`command aborted on ${this.host}: ${summarize(remote)}`, {
          host: this.host,
          hint: STILL_RUNNING,
          detail: out.stderr || undefined,
          cause: opts.signal?.reason,
        });
      default:
        throw this.#localFailure(out);
    }
  }

  /** A session over the multiplexed connection: one ssh channel running argv for as long as it is open. */
  openSession(argv: readonly string[]): ScriptSession {
    assertArgv(argv);
    const remote = quoteCommand(argv);
    return new ProcessSession(this.host, summarize(remote, 60), async () => {
      await this.connect();
      return spawnSessionProcess(this.#opts.sshPath ?? 'ssh', [...this.#sshArgs(), '-T', this.destination, '--', remote]);
    });
  }

  /** Stop the master connection (`ssh -O exit`). Safe to call twice. */
  async close(): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    this.#connecting = undefined;
    await this.#ssh(['-O', 'exit', this.destination], { timeoutMs: 10_000 });
  }

  async #open(): Promise<void> {
    try {
      await ensurePrivateDir(this.controlDir);
    } catch (e) {
      throw new ShellError(`cannot use ssh control directory for ${this.host}: ${(e as Error).message}`, {
        host: this.host,
        hint: `remove ${this.controlDir} or set another control directory`,
        cause: e,
      });
    }
    if (await this.#masterAlive()) return;
    // A first session with ControlMaster=auto starts the master; `true` never exits 255 itself.
    const timeoutMs = this.#opts.connectTimeoutMs ?? 30_000;
    const out = await this.#ssh(['-T', this.destination, '--', 'true'], { timeoutMs });
    if (out.kind === 'timed-out') {
      throw this.#unreachable({ kind: 'network', reason: `no answer within ${humanDuration(timeoutMs)}` }, out.stderr, true);
    }
    if (out.kind !== 'exited') throw this.#localFailure(out);
    if (out.code === 255) {
      const lastLine = out.stderr.trim().split('\n').pop() ?? '';
      throw this.#unreachable(
        classifySshStderr(out.stderr) ?? { kind: 'network', reason: `ssh failed: ${lastLine || 'exit status 255'}` },
        out.stderr,
      );
    }
    if (out.code !== 0) {
      throw new ShellError(
        `ssh to ${this.host} (${this.destination}) works, but the remote shell cannot run \`true\` (exit status ${out.code})`,
        {
          host: this.host,
          exitStatus: out.code,
          hint: 'check the login shell and startup files of the ssh user on the host',
          detail: out.stderr || undefined,
        },
      );
    }
  }

  async #masterAlive(): Promise<boolean> {
    const out = await this.#ssh(['-O', 'check', this.destination], { timeoutMs: 10_000 });
    return out.kind === 'exited' && out.code === 0;
  }

  #ssh(args: string[], opts: RunOptions): Promise<SpawnOutcome> {
    return spawnProcess(this.#opts.sshPath ?? 'ssh', [...this.#sshArgs(), ...args], opts);
  }

  #sshArgs(): string[] {
    const o = this.#opts;
    return [
      ...(o.configFile === undefined ? [] : ['-F', o.configFile]),
      '-o',
      'BatchMode=yes',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${this.#controlPath}`,
      '-o',
      `ControlPersist=${o.controlPersist ?? '60s'}`,
      ...(o.extraOptions ?? []),
    ];
  }

  #unreachable(f: SshFailure, stderr: string, timedOut = false): ShellError {
    return new ShellError(`cannot reach Proxmox host ${this.host} (${this.destination}): ${f.reason}`, {
      host: this.host,
      unreachable: true,
      timedOut,
      exitStatus: 255,
      hint: sshFailureHint(f.kind, this.destination),
      detail: stderr.trim() || undefined,
    });
  }

  #localFailure(out: SpawnOutcome): ShellError {
    if (out.kind === 'spawn-error' && out.errno === 'ENOENT') {
      return new ShellError(`cannot reach Proxmox host ${this.host}: the ssh client is not installed`, {
        host: this.host,
        hint: 'install OpenSSH (the `ssh` command), e.g. `apt-get install openssh-client`',
      });
    }
    const detail = out.kind === 'spawn-error' ? out.message : `ssh ended with ${out.kind}`;
    return new ShellError(`cannot run ssh for ${this.host}: ${detail}`, { host: this.host, detail });
  }
}
