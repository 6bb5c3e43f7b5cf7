/**
 * Typed errors, one class per boundary. Every error carries a short `message` (one line, for
 * normal output) and an optional `hint` (what the user should do). `detail` is shown with
 * --verbose. The CLI maps `exitCode` to the process exit status in one place.
 *
 * Every class takes the message and ONE options object (its own fields beside hint, detail and
 * cause), so call sites name what they pass. A failure a user or an outage can cause is one of
 * these; `BugError` (through `invariant`) is kept for what can only be a bug in pve-k3s.
 */

/** What every error of ours may carry. */
export interface ErrorOptions {
  /** What the user should do next; printed under the message. */
  hint?: string | undefined;
  /** Longer diagnostic text (remote stderr, etc.), shown with --verbose. */
  detail?: string | undefined;
  cause?: unknown;
}

/** 1 failed, 2 usage or inventory error, 130 interrupted by the user (Ctrl-C: 128 + SIGINT). */
export type ExitCode = 1 | 2 | 130;

export abstract class PveK3sError extends Error {
  /** What the user should do next; printed under the message. */
  readonly hint: string | undefined;
  /** Longer diagnostic text (remote stderr, etc.), shown with --verbose. */
  readonly detail: string | undefined;
  /** Process exit status the CLI uses. */
  abstract readonly exitCode: ExitCode;
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.detail = opts.detail;
  }
}

/** A bad inventory file: names the file, the line (when known) and the field. */
export class InventoryError extends PveK3sError {
  readonly exitCode = 2 as const;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(
    message: string,
    opts: ErrorOptions & { file?: string | undefined; line?: number | undefined; field?: string | undefined } = {},
  ) {
    super(message, opts);
    this.file = opts.file;
    this.line = opts.line;
    this.field = opts.field;
  }
}

/** Bad command-line usage. */
export class UsageError extends PveK3sError {
  readonly exitCode = 2 as const;
}

/** The planner refuses (downgrade, skew, stopped container...). */
export class PlanError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly reason: PlanErrorReason;
  readonly node: string | undefined;
  constructor(message: string, opts: ErrorOptions & { reason: PlanErrorReason; node?: string | undefined }) {
    super(message, opts);
    this.reason = opts.reason;
    this.node = opts.node;
  }
}
export type PlanErrorReason =
  | 'downgrade'
  | 'skew'
  | 'container-not-running'
  | 'version-unknown'
  | 'not-registered'
  | 'no-intermediate-release'
  | 'major-change'
  | 'no-server'
  | 'invalid-target'
  /** --node/--exclude/`upgrade: false` name an unknown node, or leave out nodes the skew rules need. */
  | 'selection'
  /** --canary names a node that cannot go first. */
  | 'canary'
  /** A preflight check failed (`--ignore-preflight` names it to go on). */
  | 'preflight';

/** The release channel server answered something unusable, or could not be reached. */
export class ChannelError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly url: string;
  constructor(message: string, opts: ErrorOptions & { url: string }) {
    super(message, opts);
    this.url = opts.url;
  }
}

/** A remote command could not be run (host unreachable, timed out), or failed where it must not. */
export class ShellError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly host: string;
  readonly exitStatus: number | undefined;
  readonly timedOut: boolean;
  readonly unreachable: boolean;
  constructor(
    message: string,
    opts: ErrorOptions & {
      host: string;
      exitStatus?: number | undefined;
      timedOut?: boolean | undefined;
      unreachable?: boolean | undefined;
    },
  ) {
    super(message, opts);
    this.host = opts.host;
    this.exitStatus = opts.exitStatus;
    this.timedOut = opts.timedOut ?? false;
    this.unreachable = opts.unreachable ?? false;
  }
}

/**
 * Why kubectl failed, from its own words (src/kube/kube-error.ts reads them):
 * - `unreachable`: no route to the API (dial timeout, no such host, TLS handshake timeout);
 * - `refused`: the API's port refuses connections (k3s down or restarting);
 * - `not-found`, `forbidden`, `conflict` (409: someone wrote the object since it was read),
 *   `already-exists`, `invalid` (the API rejected the object): the API's answer;
 * - `timeout`: a wait or request that ran out of time;
 * - `usage`: kubectl refused its arguments (unknown flag or command): a bug of ours or a kubectl
 *   too old for them, never worth retrying;
 * - `other`: anything else.
 */
export type KubeErrorReason =
  'unreachable' | 'refused' | 'not-found' | 'forbidden' | 'conflict' | 'already-exists' | 'invalid' | 'timeout' | 'usage' | 'other';

/** A kubectl command failed: why, its exit status and kubectl's own last words. */
export class KubeError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly reason: KubeErrorReason;
  /** kubectl's exit status (undefined when it did not run to an exit). */
  readonly exitStatus: number | undefined;
  /** kubectl's own message (its most useful line), unchanged. */
  readonly kubectl: string;
  constructor(message: string, opts: ErrorOptions & { reason: KubeErrorReason; kubectl: string; exitStatus?: number | undefined }) {
    super(message, opts);
    this.reason = opts.reason;
    this.kubectl = opts.kubectl;
    this.exitStatus = opts.exitStatus;
  }
  /** The API answered (or kubectl refused its arguments): asking again gives the same answer. */
  get permanent(): boolean {
    return this.reason === 'not-found' || this.reason === 'forbidden' || this.reason === 'invalid' || this.reason === 'usage';
  }
}

/** A step of a running plan failed (node never Ready, install failed, drain timed out...). */
export class RunError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly node: string | undefined;
  readonly step: string | undefined;
  constructor(message: string, opts: ErrorOptions & { node?: string | undefined; step?: string | undefined } = {}) {
    super(message, opts);
    this.node = opts.node;
    this.step = opts.step;
  }
}

/** A file or directory of this machine could not be read or written (names it and says what to do). */
export class FileError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly path: string;
  /** The system's error code (EACCES, EISDIR...), when there was one. */
  readonly code: string | undefined;
  constructor(message: string, opts: ErrorOptions & { path: string; code?: string | undefined }) {
    super(message, opts);
    this.path = opts.path;
    this.code = opts.code;
  }
}

/** A program (pvesh, kubectl, the Proxmox API) answered something pve-k3s cannot read. */
export class ResponseError extends PveK3sError {
  readonly exitCode = 1 as const;
}

/** The run was interrupted (Ctrl-C, SIGTERM). */
export class InterruptedError extends PveK3sError {
  readonly exitCode = 1 as const;
}

/** The user said no the hard way: Ctrl-C (or end of input) at a prompt. Nothing was changed. */
export class AbortedError extends PveK3sError {
  readonly exitCode = 130 as const;
}

/**
 * What can only be a bug in pve-k3s (an invariant broken), never a user's mistake or an outage:
 * the CLI says so and asks for a report. Not a PveK3sError on purpose.
 */
export class BugError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BugError';
  }
}

/** Throws a BugError when `condition` is false: for states the code itself rules out. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new BugError(typeof message === 'function' ? message() : message);
}

/** A system error's code (`ENOENT`, `EACCES`...), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What the system said, in words; names the part of the path it was about when that is not the path itself. */
function fileProblem(code: string, err: { message: string; syscall?: unknown; path?: unknown }, path: string): string {
  const at = typeof err.path === 'string' && err.path !== path ? err.path : undefined;
  switch (code) {
    case 'EACCES':
      return `permission denied${at ? ` on ${at}` : ''}`;
    case 'EPERM':
      return `operation not permitted${at ? ` on ${at}` : ''}`;
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EISDIR':
      return `${at ?? 'it'} is a directory`;
    case 'ENOTDIR':
      return `a file stands where a directory is needed${at ? ` in ${at}` : ''}`;
    case 'EEXIST':
      return err.syscall === 'mkdir' ? `a file stands where a directory is needed${at ? ` at ${at}` : ''}` : `${at ?? 'it'} already exists`;
    case 'ENOENT':
      return at ? `${at} does not exist` : 'no such file or directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'EBUSY':
      return `${at ?? 'it'} is busy`;
    default:
      return err.message;
  }
}

/**
 * A system error of a file operation as a FileError: "cannot <action> <path>: <what the system
 * said, in words> (<code>)". Anything that is not a system error is returned as it is.
 */
export function fileError(err: unknown, o: { action: string; path: string; hint?: string }): unknown {
  const code = errnoCode(err);
  if (code === undefined || !(err instanceof Error)) return err;
  return new FileError(`cannot ${o.action} ${o.path}: ${fileProblem(code, err, o.path)} (${code})`, {
    path: o.path,
    code,
    hint: o.hint ?? defaultFileHint(code, o.path),
    detail: err.message,
    cause: err,
  });
}

function defaultFileHint(code: string, path: string): string | undefined {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `check the owner and mode of ${path} and of the directories above it`;
    case 'EROFS':
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free some space or choose another place';
    case 'EISDIR':
      return 'name a file, not a directory';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file stands where a directory is needed: move it away or choose another path';
    default:
      return undefined;
  }
}
