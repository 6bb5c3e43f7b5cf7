/** What the lab's sh and the programs it runs exchange: results, output sinks, the machine it runs on. */
import type { Script } from './parse.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /**
   * The order the program wrote in, when that matters (both streams to one file, `2>&1`):
   * each write and its stream. Without it, a program is taken to write its stdout, then its
   * stderr. `stdout` and `stderr` are always the writes of each stream, joined.
   */
  writes?: ReadonlyArray<readonly [1 | 2, string]>;
}

/** Builds an ExecResult write by write, keeping the order of the two streams. */
export class Output {
  readonly #writes: Array<[1 | 2, string]> = [];
  out(text: string): void {
    if (text !== '') this.#writes.push([1, text]);
  }
  err(text: string): void {
    if (text !== '') this.#writes.push([2, text]);
  }
  result(code: number): ExecResult {
    const join = (fd: 1 | 2) =>
      this.#writes
        .filter((w) => w[0] === fd)
        .map((w) => w[1])
        .join('');
    return { code, stdout: join(1), stderr: join(2), writes: [...this.#writes] };
  }
}

/** What the interpreter needs from the machine it runs on (a container or a Proxmox host). */
export interface ShHost {
  /** Runs a program that is not a shell builtin. `argv[0]` is as typed (bare name or path). */
  exec(run: ShExec): Promise<ExecResult>;
  /** Where a bare command name resolves with this PATH, or undefined. */
  which(name: string, path: string): string | undefined;
  readFile(path: string): { content: string } | { error: string };
  /** Returns an error text (e.g. "Directory nonexistent") or undefined. */
  writeFile(path: string, content: string, append: boolean): string | undefined;
  fileTest(op: string, path: string): boolean;
}

/** One run of a program: its argv, environment and standard input. */
export interface Invocation {
  argv: readonly string[];
  env: Record<string, string>;
  stdin: string;
}

/** A program the shell runs on its host. */
export interface ShExec extends Invocation {
  argv: string[];
  /**
   * Its stdout and stderr go to one place (`2>&1`): a host that runs real processes gives them
   * one file so their order is kept, and returns it all as stdout.
   */
  merged?: boolean;
}

export interface ShOptions {
  env: Record<string, string>;
  args?: string[];
  /** $0 @default "sh" */
  name?: string;
  errexit?: boolean;
  nounset?: boolean;
}

/** `exit` (and errexit) unwinding to the (sub)shell that ends. */
export class ExitSignal {
  constructor(readonly code: number) {}
}

export interface Sink {
  write(s: string): void;
}
export interface Io {
  stdin: string;
  out: Sink;
  err: Sink;
}

/** An expansion error (`${x?}`, set -u): the shell reports it and exits 2. */
export class ExpansionError extends Error {}

/** One call of a builtin: the shell it runs in, its arguments, its streams and the script line it is on. */
export interface BuiltinCall {
  sh: BuiltinShell;
  args: string[];
  io: Io;
  line: number;
}

/** What the builtins need of the shell they run in. */
export interface BuiltinShell {
  readonly host: ShHost;
  bExit(args: string[]): number;
  bExport(args: string[], io: Io): number;
  bSet(args: string[], io: Io, line: number): number;
  bUnset(args: string[]): number;
  bWait(args?: string[]): Promise<number>;
  bShift(args: string[], io: Io): number;
  bEval(args: string[], io: Io): Promise<number>;
  bExec(args: string[], io: Io, line: number): Promise<number>;
  bCommand(args: string[], io: Io): number | Promise<number>;
  bCd(args: string[], io: Io): number;
}

/** What expansion needs of the shell: its parameters, and running a command substitution. */
export interface ExpansionScope {
  readonly nounset: boolean;
  readonly positional: readonly string[];
  lookup(name: string): string | undefined;
  assign(name: string, value: string): void;
  commandSubst(script: Script, io: Io): Promise<string>;
}
