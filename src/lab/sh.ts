/**
 * The lab's small sh interpreter (dash-like messages): lists, && ||, pipelines, quotes,
 * parameter expansion, $(...), assignments and export, set -e/-u, redirections, & and wait,
 * and a few builtins. Other programs are run through the `ShHost` it is given.
 */
import { parseScript, ShSyntaxError, type AndOr, type Pipeline, type Script, type Simple, type Word } from './sh-parse.js';
import { formatPrintf } from './printf.js';

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
  /**
   * Runs a program that is not a shell builtin. `argv[0]` is as typed (bare name or path).
   * `merged`: its stdout and stderr go to one place (`2>&1`): a host that runs real processes
   * gives them one file so their order is kept, and returns it all as stdout.
   */
  exec(argv: string[], env: Record<string, string>, stdin: string, merged?: boolean): Promise<ExecResult>;
  /** Where a bare command name resolves with this PATH, or undefined. */
  which(name: string, path: string): string | undefined;
  readFile(path: string): { content: string } | { error: string };
  /** Returns an error text (e.g. "Directory nonexistent") or undefined. */
  writeFile(path: string, content: string, append: boolean): string | undefined;
  fileTest(op: string, path: string): boolean;
}

export interface ShOptions {
  env: Record<string, string>;
  args?: string[];
  /** $0 @default "sh" */
  name?: string;
  errexit?: boolean;
  nounset?: boolean;
}

class ExitSignal {
  constructor(readonly code: number) {}
}

interface Sink {
  write(s: string): void;
}
interface Io {
  stdin: string;
  out: Sink;
  err: Sink;
}

/** Runs a script text; a parse error is exit 2 with `sh: <line>: <message>` on stderr. */
export async function runSh(script: string, host: ShHost, opts: ShOptions, stdin = ''): Promise<ExecResult> {
  let ast: Script;
  try {
    ast = parseScript(script);
  } catch (e) {
    if (e instanceof ShSyntaxError) return { code: 2, stdout: '', stderr: `${opts.name ?? 'sh'}: ${e.line}: ${e.message}\n` };
    throw e;
  }
  const interp = new Interp(host, opts);
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdin,
    out: {
      write: (s) => {
        stdout += s;
      },
    },
    err: {
      write: (s) => {
        stderr += s;
      },
    },
  };
  const code = await interp.runTop(ast, io);
  return { code, stdout, stderr };
}

/**
 * `$$` and `$!`: a process id per shell and per background job, unique within this process
 * and unlikely to repeat across the lab's processes (each starts from its own pid's range).
 */
let lastPid = 1000 + (process.pid % 4000) * 1000;
function nextPid(): number {
  lastPid = lastPid >= 4_194_000 ? 1000 : lastPid + 1;
  return lastPid;
}

/** Special built-ins (POSIX 2.14): assignments before them stay in the shell. */
const SPECIAL = new Set([
  ':',
  '.',
  'break',
  'continue',
  'eval',
  'exec',
  'exit',
  'export',
  'readonly',
  'return',
  'set',
  'shift',
  'times',
  'trap',
  'unset',
]);

class Interp {
  private readonly vars = new Map<string, string>();
  private readonly exported = new Set<string>();
  private positional: string[];
  private readonly name: string;
  private errexit: boolean;
  private nounset: boolean;
  private status = 0;
  /** Background jobs by their pid, until `wait` reaps them. */
  private readonly jobs = new Map<number, Promise<number>>();
  private lastBg = '';
  /** `$$`: this shell's pid (a subshell keeps its parent's, as POSIX says). */
  private pid = nextPid();

  private substStatus: number | undefined;

  constructor(
    readonly host: ShHost,
    opts: ShOptions,
  ) {
    for (const [k, v] of Object.entries(opts.env)) {
      this.vars.set(k, v);
      this.exported.add(k);
    }
    this.positional = opts.args ?? [];
    this.name = opts.name ?? 'sh';
    this.errexit = opts.errexit ?? false;
    this.nounset = opts.nounset ?? false;
  }

  async runTop(script: Script, io: Io): Promise<number> {
    try {
      await this.runList(script, io);
      return this.status;
    } catch (e) {
      if (e instanceof ExitSignal) return e.code;
      throw e;
    }
  }

  /** One command of a pipeline, in this (sub)shell: its `exit` is its status. */
  async runStage(cmd: Simple, io: Io): Promise<number> {
    try {
      return await this.runSimple(cmd, io);
    } catch (e) {
      if (e instanceof ExitSignal) return e.code;
      throw e;
    }
  }

  private async runList(script: Script, io: Io): Promise<void> {
    for (const ao of script) {
      if (ao.background) {
        const job = this.runAndOr(ao, { ...io, stdin: '' }, true).catch((e: unknown) =>
          e instanceof ExitSignal ? e.code : Promise.reject(e),
        );
        const pid = nextPid();
        this.jobs.set(pid, job);
        this.lastBg = String(pid);
        this.status = 0;
      } else {
        await this.runAndOr(ao, io, false);
      }
    }
  }

  private async runAndOr(ao: AndOr, io: Io, background: boolean): Promise<number> {
    const last = ao.rest.length === 0;
    let code = await this.runPipeline(ao.first, io, !background && last);
    for (let i = 0; i < ao.rest.length; i++) {
      const step = ao.rest[i];
      if (!step) continue;
      if ((step.op === '&&' && code !== 0) || (step.op === '||' && code === 0)) continue;
      code = await this.runPipeline(step.p, io, !background && i === ao.rest.length - 1);
    }
    return code;
  }

  private async runPipeline(p: Pipeline, io: Io, checkErrexit: boolean): Promise<number> {
    let input = io.stdin;
    let code = 0;
    for (let i = 0; i < p.cmds.length; i++) {
      const cmd = p.cmds[i];
      if (!cmd) continue;
      const lastStage = i === p.cmds.length - 1;
      let buf = '';
      const stageIo: Io = lastStage
        ? { ...io, stdin: input }
        : {
            stdin: input,
            out: {
              write: (s) => {
                buf += s;
              },
            },
            err: io.err,
          };
      // Each command of a pipeline of several runs in a subshell (its `exit` and assignments end there).
      code = p.cmds.length > 1 ? await this.child(false).runStage(cmd, stageIo) : await this.runSimple(cmd, stageIo);
      input = buf;
    }
    if (p.bang) code = code === 0 ? 1 : 0;
    this.status = code;
    if (checkErrexit && !p.bang && code !== 0 && this.errexit) throw new ExitSignal(code);
    return code;
  }

  private async runSimple(cmd: Simple, io: Io): Promise<number> {
    try {
      this.substStatus = undefined;
      const argv: string[] = [];
      for (const w of cmd.words) argv.push(...(await this.expandWord(w, io, true)));
      // Assignments are expanded left to right, each seeing those before it (`a=1 b=$a`);
      // before a command they hold only for it (runCommand), else they stay.
      const assigns: Array<[string, string]> = [];
      const before = cmd.assigns.map((a) => [a.name, this.vars.get(a.name)] as const);
      try {
        for (const a of cmd.assigns) {
          const v = (await this.expandWord(a.value, io, false)).join('');
          assigns.push([a.name, v]);
          this.vars.set(a.name, v);
        }
      } finally {
        if (argv.length > 0 || cmd.sub)
          for (const [k, v] of before.reverse()) {
            if (v === undefined) this.vars.delete(k);
            else this.vars.set(k, v);
          }
      }
      const rio = await this.applyRedirs(cmd, io);
      if (typeof rio === 'number') return rio;
      if (cmd.sub) return await this.subshell(cmd.sub, rio);
      if (argv.length === 0) return this.substStatus ?? 0;
      return await this.runCommand(argv, assigns, rio, cmd.line);
    } catch (e) {
      if (e instanceof ExpansionError) {
        io.err.write(`${this.name}: ${cmd.line}: ${e.message}\n`);
        throw new ExitSignal(2);
      }
      throw e;
    }
  }

  private async applyRedirs(cmd: Simple, io: Io): Promise<Io | number> {
    const fds: Array<Sink | undefined> = [undefined, io.out, io.err];
    let stdin = io.stdin;
    for (const r of cmd.redirs) {
      const target = (await this.expandWord(r.target, io, false)).join('');
      if (r.op === '>&' || r.op === '<&') {
        if (!/^[0-9]$/.test(target)) {
          io.err.write(`${this.name}: ${cmd.line}: lab sh does not support the redirection target "${target}"\n`);
          return 2;
        }
        if (r.op === '>&') fds[r.fd] = fds[Number(target)];
        continue;
      }
      if (r.op === '<') {
        if (target === '/dev/null') {
          stdin = '';
          continue;
        }
        const f = this.host.readFile(target);
        if ('error' in f) {
          io.err.write(`${this.name}: ${cmd.line}: cannot open ${target}: ${f.error}\n`);
          return 2;
        }
        stdin = f.content;
        continue;
      }
      const sink = this.openSink(target, r.op === '>>', cmd.line, io, fds);
      if (typeof sink === 'number') return sink;
      fds[r.fd] = sink;
    }
    return { stdin, out: fds[1] ?? { write: () => {} }, err: fds[2] ?? { write: () => {} } };
  }

  private openSink(target: string, append: boolean, line: number, io: Io, fds: Array<Sink | undefined>): Sink | number {
    if (target === '/dev/null') return { write: () => {} };
    if (target === '/dev/stdout') return fds[1] ?? io.out;
    if (target === '/dev/stderr') return fds[2] ?? io.err;
    const err = this.host.writeFile(target, '', append);
    if (err !== undefined) {
      io.err.write(`${this.name}: ${line}: cannot create ${target}: ${err}\n`);
      return 2;
    }
    return {
      write: (s) => {
        this.host.writeFile(target, s, true);
      },
    };
  }

  private async runCommand(argv: string[], assigns: Array<[string, string]>, io: Io, line: number): Promise<number> {
    const [name, ...args] = argv;
    if (name === undefined) return 0;
    const builtin = BUILTINS[name];
    if (builtin) {
      const saved = assigns.map(([k]) => [k, this.vars.get(k)] as const);
      for (const [k, v] of assigns) this.vars.set(k, v);
      try {
        return await builtin.call(this, args, io, line);
      } finally {
        if (!SPECIAL.has(name))
          for (const [k, v] of saved) {
            if (v === undefined) this.vars.delete(k);
            else this.vars.set(k, v);
          }
      }
    }
    const env = this.environment();
    for (const [k, v] of assigns) env[k] = v;
    if (!name.includes('/') && this.host.which(name, env.PATH ?? '') === undefined) {
      io.err.write(`${this.name}: ${line}: ${name}: not found\n`);
      return 127;
    }
    const r = await this.host.exec(argv, env, io.stdin, io.out === io.err);
    if (r.writes) for (const [fd, text] of r.writes) (fd === 1 ? io.out : io.err).write(text);
    else {
      io.out.write(r.stdout);
      io.err.write(r.stderr);
    }
    return r.code;
  }

  environment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined) env[k] = v;
    }
    return env;
  }

  /** Expands a word; unquoted expansions are split on blanks when `split`. */
  private async expandWord(word: Word, io: Io, split: boolean): Promise<string[]> {
    const fields: string[] = [];
    let cur = '';
    let has = false;
    const pushSplit = (text: string) => {
      const pieces = text.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0) {
          if (has || cur !== '') fields.push(cur);
          cur = '';
          has = false;
        }
        if (piece !== '') {
          cur += piece;
          has = true;
        }
      });
    };
    for (const part of word) {
      if (part.t === 'lit') {
        cur += part.v;
        has = has || part.quoted || part.v !== '';
        continue;
      }
      if (part.t === 'var' && (part.name === '@' || part.name === '*') && part.op === undefined) {
        if (part.quoted && part.name === '@') {
          this.positional.forEach((a, i) => {
            if (i > 0) {
              fields.push(cur);
              cur = '';
            }
            cur += a;
            has = true;
          });
          continue;
        }
        const v = this.positional.join(' ');
        if (part.quoted || !split) {
          cur += v;
          has = true;
        } else pushSplit(v);
        continue;
      }
      const v = part.t === 'var' ? await this.param(part, io) : await this.commandSubst(part.script, io);
      if (part.quoted || !split) {
        cur += v;
        has = true;
      } else pushSplit(v);
    }
    if (has || cur !== '') fields.push(cur);
    return split ? fields : [fields.join(' ')];
  }

  /** A copy of this shell's state for a subshell: what it changes (variables, options, exit) stays there. */
  private child(errexit: boolean): Interp {
    const sub = new Interp(this.host, { env: {}, args: this.positional, name: this.name, errexit, nounset: this.nounset });
    for (const [k, v] of this.vars) sub.vars.set(k, v);
    for (const k of this.exported) sub.exported.add(k);
    sub.status = this.status;
    sub.pid = this.pid;
    return sub;
  }

  /** `( list )`: runs in a copy of the shell; `exit` and `set -e` end only the subshell. */
  private subshell(script: Script, io: Io): Promise<number> {
    return this.child(this.errexit).runTop(script, io);
  }

  private async commandSubst(script: Script, io: Io): Promise<string> {
    let out = '';
    const sub = this.child(false);
    const code = await sub.runTop(script, {
      stdin: '',
      out: {
        write: (s) => {
          out += s;
        },
      },
      err: io.err,
    });
    this.substStatus = code;
    return out.replace(/\n+$/, '');
  }

  private async param(part: Extract<Word[number], { t: 'var' }>, io: Io): Promise<string> {
    const value = this.lookup(part.name);
    if (part.length) {
      if (value === undefined && this.nounset && !['@', '*', '#', '?', '$', '!', '-', '0'].includes(part.name))
        throw new ExpansionError(`${part.name}: parameter not set`);
      return String((value ?? '').length);
    }
    if (part.op === undefined) {
      if (value === undefined && this.nounset && !['@', '*', '#', '?', '$', '!', '-', '0'].includes(part.name)) {
        throw new ExpansionError(`${part.name}: parameter not set`);
      }
      return value ?? '';
    }
    const colon = part.op.startsWith(':');
    const unset = value === undefined || (colon && value === '');
    const arg = async () => (await this.expandWord(part.arg ?? [], io, false)).join('');
    switch (part.op.replace(':', '')) {
      case '-':
        return unset ? arg() : (value ?? '');
      case '+':
        return unset ? '' : arg();
      case '=': {
        if (!unset) return value ?? '';
        const v = await arg();
        this.vars.set(part.name, v);
        return v;
      }
      default: {
        if (!unset) return value ?? '';
        const msg = await arg();
        throw new ExpansionError(`${part.name}: ${msg === '' ? 'parameter not set' : msg}`);
      }
    }
  }

  private lookup(name: string): string | undefined {
    if (name === '?') return String(this.status);
    if (name === '#') return String(this.positional.length);
    if (name === '$') return String(this.pid);
    if (name === '!') return this.lastBg;
    if (name === '-') return `${this.errexit ? 'e' : ''}${this.nounset ? 'u' : ''}`;
    if (name === '0') return this.name;
    if (/^[1-9]$/.test(name)) return this.positional[Number(name) - 1];
    return this.vars.get(name);
  }

  // ---- builtins (called with `this` bound to the interpreter) ----
  bExport(args: string[], io: Io): number {
    for (const a of args) {
      if (a === '-p') {
        this.printExports(io);
        continue;
      }
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=([\s\S]*))?$/.exec(a);
      if (!m?.[1]) {
        io.err.write(`${this.name}: export: ${a}: bad variable name\n`);
        return 2;
      }
      if (m[2] !== undefined) this.vars.set(m[1], m[2]);
      this.exported.add(m[1]);
    }
    if (args.length === 0) this.printExports(io);
    return 0;
  }

  private printExports(io: Io): void {
    for (const k of [...this.exported].sort()) {
      const v = this.vars.get(k);
      if (v !== undefined) io.out.write(`export ${k}='${v.replace(/'/g, `'\\''`)}'\n`);
    }
  }

  bSet(args: string[], io: Io, line: number): number {
    for (const a of args) {
      const m = /^([-+])([eux]+)$/.exec(a);
      if (a === '-o' || a === '+o' || !m?.[1] || !m[2]) {
        if (a === '--') continue;
        io.err.write(`${this.name}: ${line}: set: lab sh does not support "${a}" (only -e, -u)\n`);
        throw new ExitSignal(2);
      }
      const on = m[1] === '-';
      for (const f of m[2]) {
        if (f === 'e') this.errexit = on;
        else if (f === 'u') this.nounset = on;
        else {
          io.err.write(`${this.name}: ${line}: set: lab sh does not support "-${f}"\n`);
          throw new ExitSignal(2);
        }
      }
    }
    return 0;
  }

  bUnset(args: string[]): number {
    for (const a of args) {
      if (a === '-v') continue;
      this.vars.delete(a);
      this.exported.delete(a);
    }
    return 0;
  }

  /** `wait`: every job, then 0; `wait pid...`: the status of the last one named (127 when it is no job of this shell). */
  async bWait(args: string[] = []): Promise<number> {
    if (args.length === 0) {
      for (const [pid, job] of [...this.jobs]) {
        await job;
        this.jobs.delete(pid);
      }
      return 0;
    }
    let code = 0;
    for (const a of args) {
      const job = this.jobs.get(Number(a));
      code = job === undefined ? 127 : await job;
    }
    return code;
  }

  bShift(args: string[], io: Io): number {
    const n = args[0] === undefined ? 1 : Number(args[0]);
    if (!Number.isInteger(n) || n > this.positional.length) {
      io.err.write(`${this.name}: shift: can't shift that many\n`);
      return 2;
    }
    this.positional = this.positional.slice(n);
    return 0;
  }

  async bEval(args: string[], io: Io): Promise<number> {
    let ast: Script;
    try {
      ast = parseScript(args.join(' '));
    } catch (e) {
      if (e instanceof ShSyntaxError) {
        io.err.write(`${this.name}: ${e.line}: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    await this.runList(ast, io);
    return this.status;
  }

  async bExec(args: string[], io: Io, line: number): Promise<number> {
    if (args.length === 0) return 0;
    const code = await this.runCommand(args, [], io, line);
    throw new ExitSignal(code);
  }

  bCommand(args: string[], io: Io): number | Promise<number> {
    if (args[0] !== '-v') return this.runCommand(args, [], io, 0);
    let code = 0;
    for (const n of args.slice(1)) {
      if (BUILTINS[n]) io.out.write(`${n}\n`);
      else {
        const p = n.includes('/') ? (this.host.fileTest('-x', n) ? n : undefined) : this.host.which(n, this.vars.get('PATH') ?? '');
        if (p === undefined) code = 1;
        else io.out.write(`${p}\n`);
      }
    }
    return code;
  }

  bCd(args: string[], io: Io): number {
    const dir = args[0] ?? this.vars.get('HOME') ?? '/';
    if (!this.host.fileTest('-d', dir)) {
      io.err.write(`${this.name}: cd: can't cd to ${dir}\n`);
      return 2;
    }
    this.vars.set('PWD', dir);
    return 0;
  }

  bExit(args: string[]): number {
    throw new ExitSignal(args[0] === undefined ? this.status : Number(args[0]) & 255);
  }
}

class ExpansionError extends Error {}

type Builtin = (this: Interp, args: string[], io: Io, line: number) => number | Promise<number>;

const BUILTINS: Record<string, Builtin | undefined> = {
  ':': () => 0,
  true: () => 0,
  false: () => 1,
  echo: (args, io) => {
    let a = args;
    let newline = true;
    if (a[0] === '-n') {
      newline = false;
      a = a.slice(1);
    }
    let text = a.join(' ');
    const cut = text.indexOf('\\c');
    if (cut >= 0) {
      text = text.slice(0, cut);
      newline = false;
    }
    io.out.write(unescape(text) + (newline ? '\n' : ''));
    return 0;
  },
  printf: (args, io) => {
    const r = formatPrintf(args);
    io.out.write(r.out);
    if (r.error) io.err.write(`printf: ${r.error}\n`);
    return r.error ? 1 : 0;
  },
  exit: function (args) {
    return this.bExit(args);
  },
  export: function (args, io) {
    return this.bExport(args, io);
  },
  set: function (args, io, line) {
    return this.bSet(args, io, line);
  },
  unset: function (args) {
    return this.bUnset(args);
  },
  wait: function (args) {
    return this.bWait(args);
  },
  shift: function (args, io) {
    return this.bShift(args, io);
  },
  eval: function (args, io) {
    return this.bEval(args, io);
  },
  exec: function (args, io, line) {
    return this.bExec(args, io, line);
  },
  command: function (args, io) {
    return this.bCommand(args, io);
  },
  cd: function (args, io) {
    return this.bCd(args, io);
  },
  pwd: (_args, io) => {
    io.out.write('/root\n');
    return 0;
  },
  test: function (args, io) {
    return testBuiltin(this, args, io, 'test');
  },
  '[': function (args, io) {
    if (args[args.length - 1] !== ']') {
      io.err.write(`sh: [: missing ]\n`);
      return 2;
    }
    return testBuiltin(this, args.slice(0, -1), io, '[');
  },
};

function unescape(s: string): string {
  return s.replace(/\\([ntr\\]|0[0-7]{0,3})/g, (_m, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === '\\' ? '\\' : String.fromCharCode(parseInt(c, 8)),
  );
}

function testBuiltin(interp: Interp, args: string[], io: Io, name: string): number {
  const r = evalTest(args, interp.host);
  if (typeof r === 'string') {
    io.err.write(`sh: ${name}: ${r}\n`);
    return 2;
  }
  return r ? 0 : 1;
}

/** test(1): true/false, or an error text (exit 2). */
export function evalTest(args: string[], host: Pick<ShHost, 'fileTest'>): boolean | string {
  if (args[0] === '!') {
    const r = evalTest(args.slice(1), host);
    return typeof r === 'string' ? r : !r;
  }
  if (args.includes('-a') || args.includes('-o')) return 'lab sh does not support -a/-o in test; use && / ||';
  const [a, b, c] = args;
  if (args.length === 0) return false;
  if (args.length === 1) return (a ?? '') !== '';
  if (args.length === 2 && a !== undefined && b !== undefined) {
    if (a === '-n') return b !== '';
    if (a === '-z') return b === '';
    if (/^-[efdxsrwhL]$/.test(a)) return host.fileTest(a, b);
    return `${a}: unexpected operator`;
  }
  if (args.length === 3 && a !== undefined && b !== undefined && c !== undefined) {
    if (b === '=' || b === '==') return a === c;
    if (b === '!=') return a !== c;
    const ints = {
      '-eq': (x: number, y: number) => x === y,
      '-ne': (x: number, y: number) => x !== y,
      '-lt': (x: number, y: number) => x < y,
      '-le': (x: number, y: number) => x <= y,
      '-gt': (x: number, y: number) => x > y,
      '-ge': (x: number, y: number) => x >= y,
    } as Record<string, ((x: number, y: number) => boolean) | undefined>;
    const f = ints[b];
    if (f) {
      if (!/^-?\d+$/.test(a)) return `Illegal number: ${a}`;
      if (!/^-?\d+$/.test(c)) return `Illegal number: ${c}`;
      return f(Number(a), Number(c));
    }
    return `${b}: unexpected operator`;
  }
  return 'lab sh does not support this test expression';
}

/** Parses `sh` options and runs it: `sh -c 'script' [name args]`, `sh -s [-|--] args`, `sh file args`, `sh` (stdin). */
export async function runShProgram(argv: readonly string[], env: Record<string, string>, stdin: string, host: ShHost): Promise<ExecResult> {
  let errexit = false;
  let nounset = false;
  let mode: 'c' | 's' | undefined;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-' || a === '--') {
      i++;
      break;
    }
    if (!/^[-+][a-z]+$/.test(a)) break;
    for (const f of a.slice(1)) {
      if (f === 'c') mode = 'c';
      else if (f === 's') mode = 's';
      else if (f === 'e') errexit = true;
      else if (f === 'u') nounset = true;
      else return { code: 2, stdout: '', stderr: `sh: 0: Illegal option -${f}\n` };
    }
  }
  const rest = argv.slice(i);
  const opts = { env, errexit, nounset };
  if (mode === 'c') {
    const [script, name, ...args] = rest;
    if (script === undefined) return { code: 2, stdout: '', stderr: 'sh: 0: -c requires an argument\n' };
    return runSh(script, host, { ...opts, name: name ?? 'sh', args }, stdin);
  }
  if (mode === 's' || rest.length === 0) return runSh(stdin, host, { ...opts, args: rest }, '');
  const [file, ...args] = rest;
  const f = host.readFile(file ?? '');
  if ('error' in f) return { code: 2, stdout: '', stderr: `sh: 0: cannot open ${file}: No such file\n` };
  return runSh(f.content, host, { ...opts, name: file ?? 'sh', args }, stdin);
}
