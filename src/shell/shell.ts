/**
 * The one boundary every remote effect crosses: run an argv on a Proxmox host.
 * Implementations: local process, OpenSSH, and the embedded lab. A non-zero exit status is
 * returned, never thrown; only a failure to run at all (unreachable host, timeout, abort)
 * throws a ShellError.
 */
export interface RunOptions {
  /** Bytes written to the command's stdin (then closed). Secrets travel here, never in argv. */
  stdin?: string;
  /** Kill the command after this long and throw ShellError{timedOut}. @default no timeout */
  timeoutMs?: number;
  /** Abort the command (Ctrl-C); throws ShellError. */
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one script run in a session (session.ts). */
export interface SessionRunOptions {
  /** Give up after this long: the session is stopped and ShellError{timedOut} thrown. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ScriptSession {
  /** Runs a POSIX sh script: its stdout, stderr and exit status. Throws SessionLostError or ShellError. */
  run(script: string, opts?: SessionRunOptions): Promise<RunResult>;
  /** False once the session's process has ended (or was stopped). */
  readonly alive: boolean;
  /** True while a script runs. */
  readonly busy: boolean;
  /** Ends the session (closes its stdin; stops it if it does not exit). Safe to call twice. */
  close(): Promise<void>;
}

export interface Shell {
  /** The Proxmox host name as the inventory calls it (used in messages). */
  readonly host: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * Starts a long-lived argv (e.g. `pct exec <vmid> -- sh`) that runs scripts sent to it one at
   * a time (session.ts). Optional: callers fall back to run() without it.
   */
  openSession?(argv: readonly string[]): ScriptSession;
  /** Release connections (e.g. the SSH control master). Safe to call twice. */
  close(): Promise<void>;
}
