/**
 * Typed errors, one class per boundary. Every error carries a short `message` (one line, for
 * normal output) and an optional `hint` (what the user should do). `detail` is shown with
 * --verbose. The CLI maps `exitCode` to the process exit status in one place.
 */
export abstract class PveK3sError extends Error {
  /** What the user should do next; printed under the message. */
  readonly hint: string | undefined;
  /** Longer diagnostic text (remote stderr, etc.), shown with --verbose. */
  readonly detail: string | undefined;
  /** Process exit status the CLI uses: 1 failed, 2 usage or inventory error. */
  abstract readonly exitCode: 1 | 2;
  constructor(message: string, opts: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.detail = opts.detail;
  }
}

/** A bad inventory file: names the file, the line (when known) and the field. */
export class InventoryError extends PveK3sError {
  readonly exitCode = 2 as const;
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly line: number | undefined,
    readonly field: string | undefined,
    opts: { hint?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

/** Bad command-line usage. */
export class UsageError extends PveK3sError {
  readonly exitCode = 2 as const;
}

/** The planner refuses (downgrade, skew, stopped container...). */
export class PlanError extends PveK3sError {
  readonly exitCode = 1 as const;
  constructor(
    message: string,
    readonly reason: PlanErrorReason,
    opts: { hint?: string; detail?: string; node?: string } = {},
  ) {
    super(message, opts);
    this.node = opts.node;
  }
  readonly node: string | undefined;
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
  | 'invalid-target';

/** The release channel server answered something unusable, or could not be reached. */
export class ChannelError extends PveK3sError {
  readonly exitCode = 1 as const;
  constructor(
    message: string,
    readonly url: string,
    opts: { hint?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(message, opts);
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
    opts: {
      host: string;
      exitStatus?: number;
      timedOut?: boolean;
      unreachable?: boolean;
      hint?: string;
      detail?: string;
      cause?: unknown;
    },
  ) {
    super(message, opts);
    this.host = opts.host;
    this.exitStatus = opts.exitStatus;
    this.timedOut = opts.timedOut ?? false;
    this.unreachable = opts.unreachable ?? false;
  }
}

/** A step of a running plan failed (node never Ready, install failed, drain timed out...). */
export class RunError extends PveK3sError {
  readonly exitCode = 1 as const;
  constructor(
    message: string,
    readonly node: string | undefined,
    readonly step: string | undefined,
    opts: { hint?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

/** The run was interrupted (Ctrl-C, SIGTERM). */
export class InterruptedError extends PveK3sError {
  readonly exitCode = 1 as const;
}
