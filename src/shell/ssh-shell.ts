/**
 * The Shell for a remote Proxmox host, through the SYSTEM `ssh` client so the user's
 * ~/.ssh/config, agent and ProxyJump apply. One multiplexed master connection per host;
 * each run() is a cheap session on it. Host keys are always verified by ssh as configured.
 *
 * The master is opened by the first real request (ControlMaster=auto: that ssh logs in, puts
 * the master in the background and runs the request through it), not by a `true` beforehand;
 * requests made meanwhile wait until the master's socket appears. By default the master stays
 * up `controlPersist` after close() so the next command reuses it without a handshake; a later
 * SshShell (another pve-k3s process) finds it by its socket in the private control directory.
 */
import { ShellError } from '../domain/errors.js';
import type { RunOptions, RunResult, Shell } from './shell.js';
import { quoteCommand } from './quote.js';
import { assertArgv, spawnProcess, summarize, type SpawnOutcome } from './spawn.js';
import { controlPathFor, defaultControlDir, ensurePrivateDir, removeStale, socketState, sshControlPathOption } from './control-dir.js';
import { classifySshStderr, sshFailureHint, type SshFailure } from './ssh-failure.js';
import { ProcessSession, spawnSessionProcess, type ScriptSession } from './session.js';
import { humanDuration } from '../domain/duration.js';

/** ssh cannot signal a remote command without a tty: stopping the client only stops waiting. */
const STILL_RUNNING = 'the remote command may still be running on the host until it ends or writes output';
/** How often a request waiting for the master looks for its socket. */
const SOCKET_POLL_MS = 10;

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
  /**
   * Leave the master running after close() for the next command (it ends by itself after
   * `controlPersist` without sessions). False: close() stops a master this shell started.
   * @default true
   */
  persist?: boolean;
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
  /** The master's control socket (in controlDir). */
  readonly controlPath: string;
  readonly #opts: SshShellOptions;
  /** A master is known to be up (or ssh runs without one): requests go straight to ssh. */
  #ready = false;
  /** Settles when the request opening the master has its socket (or has ended); rejects when the host cannot be reached. */
  #opening: Promise<void> | undefined;
  /** This shell's request started the master (close() stops it when persist is false). */
  #started = false;

  constructor(opts: SshShellOptions) {
    if (opts.destination === '' || opts.destination.startsWith('-')) {
      throw new TypeError(`invalid ssh destination for ${opts.host}: ${JSON.stringify(opts.destination)}`);
    }
    this.host = opts.host;
    this.destination = opts.destination;
    this.controlDir = opts.controlDir ?? defaultControlDir();
    this.controlPath = controlPathFor(this.controlDir, opts);
    this.#opts = opts;
  }

  /** Open (or find) the master connection with `true`; concurrent callers share one attempt. */
  async connect(): Promise<void> {
    if (this.#ready) return;
    if (this.#opening) return this.#opening;
    const out = await this.#open(['-T', this.destination, '--', 'true'], {});
    if (out.kind !== 'exited') throw this.#localFailure(out);
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

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    assertArgv(argv);
    const remote = quoteCommand(argv);
    const args = ['-T', this.destination, '--', remote];
    if (!this.#ready && this.#opening) await this.#opening;
    const out = this.#ready ? await this.#ssh(args, opts) : await this.#open(args, opts);
    switch (out.kind) {
      case 'exited': {
        if (out.code === 255) {
          // 255 is also pct's own error status: only ssh's own words AND a dead master mean ssh failed.
          const failure = classifySshStderr(out.stderr);
          if (failure !== undefined && (await socketState(this.controlPath)) !== 'alive') throw this.#unreachable(failure, out.stderr);
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

  /**
   * Done with this host. With `persist` (the default) the master stays up for the next
   * command and ends by itself after `controlPersist` without sessions; otherwise a master this
   * shell started is stopped (`ssh -O exit`). Safe to call twice.
   */
  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    const started = this.#started;
    this.#ready = false;
    this.#opening = undefined;
    this.#started = false;
    if (started && this.#opts.persist === false) await this.stopMaster();
  }

  /** Stops the master now, whoever started it (`ssh -O exit`); a no-op without one. */
  async stopMaster(): Promise<void> {
    this.#ready = false;
    if ((await socketState(this.controlPath)) !== 'alive') return;
    await this.#ssh(['-O', 'exit', this.destination], { timeoutMs: 10_000 });
  }

  /**
   * Runs the first request of this shell: it opens the master (or goes through one an earlier
   * command left, found by its socket). Requests made meanwhile wait for the socket to appear.
   */
  async #open(args: string[], opts: RunOptions): Promise<SpawnOutcome> {
    let settle!: (e?: ShellError) => void;
    const opening = new Promise<void>((res, rej) => (settle = (e) => (e ? rej(e) : res())));
    opening.catch(() => undefined); // waiters see the rejection; nobody else must
    this.#opening = opening;
    const fail = (e: ShellError): never => {
      this.#opening = undefined;
      settle(e);
      throw e;
    };
    try {
      await ensurePrivateDir(this.controlDir);
    } catch (e) {
      fail(
        new ShellError(`cannot use ssh control directory for ${this.host}: ${(e as Error).message}`, {
          host: this.host,
          hint: `remove ${this.controlDir} or set another control directory`,
          cause: e,
        }),
      );
    }
    const before = await socketState(this.controlPath);
    if (before === 'alive') {
      // A master from an earlier command (ControlPersist): reuse it.
      this.#ready = true;
      settle();
      return this.#ssh(args, opts);
    }
    // ssh would remove a stale socket itself, but every waiter would race to do so.
    if (before === 'stale') await removeStale(this.controlPath);
    const connectTimeoutMs = this.#opts.connectTimeoutMs ?? 30_000;
    const noAnswer = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, noAnswer.signal]) : noAnswer.signal;
    let up = false;
    let watching = true;
    const started = Date.now();
    void (async () => {
      while (watching) {
        await new Promise((r) => setTimeout(r, SOCKET_POLL_MS));
        if (!watching) return;
        if ((await socketState(this.controlPath)) === 'alive' && watching) {
          up = true;
          this.#ready = true;
          this.#started = true;
          settle();
          return;
        }
        if (Date.now() - started > connectTimeoutMs) {
          noAnswer.abort();
          return;
        }
      }
    })();
    const out = await this.#ssh(args, { ...opts, signal });
    watching = false;
    if (noAnswer.signal.aborted && !up) {
      fail(
        this.#unreachable(
          { kind: 'network', reason: `no answer within ${humanDuration(connectTimeoutMs)}` },
          out.kind === 'spawn-error' ? '' : out.stderr,
          true,
        ),
      );
    }
    if (!up && out.kind === 'exited') {
      // The request ran, so a master is up now, or ssh went without one (another process's socket won the race).
      const now = await socketState(this.controlPath);
      if (now === 'alive') this.#started = true;
      else if (out.code === 255) {
        fail(
          this.#unreachable(
            classifySshStderr(out.stderr) ?? {
              kind: 'network',
              reason: `ssh failed: ${out.stderr.trim().split('\n').pop() || 'exit status 255'}`,
            },
            out.stderr,
          ),
        );
      }
      this.#ready = true;
    }
    if (out.kind === 'spawn-error') fail(this.#localFailure(out));
    if (!this.#ready) this.#opening = undefined; // stopped before the master came up: the next request opens it
    settle();
    return out;
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
      `ControlPath=${sshControlPathOption(this.controlPath)}`,
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
