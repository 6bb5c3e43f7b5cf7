/** The lab's sh interpreter: how commands run (expansion in expand.ts, builtins in builtins.ts). */
import { parseScript, ShSyntaxError, type AndOr, type Pipeline, type Script, type Simple, type Word } from './parse.js';
import { BUILTINS, SPECIAL } from './builtins.js';
import { expandWord } from './expand.js';
import {
  ExitSignal,
  ExpansionError,
  type BuiltinShell,
  type ExpansionScope,
  type Io,
  type ShHost,
  type ShOptions,
  type Sink,
} from './types.js';

/**
 * `$$` and `$!`: a process id per shell and per background job, unique within this process
 * and unlikely to repeat across the lab's processes (each starts from its own pid's range).
 */
let lastPid = 1000 + (process.pid % 4000) * 1000;
function nextPid(): number {
  lastPid = lastPid >= 4_194_000 ? 1000 : lastPid + 1;
  return lastPid;
}

/** The interpreter: lists, and-or lists, pipelines, simple commands, redirections, subshells, jobs. */
export class Interp implements BuiltinShell, ExpansionScope {
  private readonly vars = new Map<string, string>();
  private readonly exported = new Set<string>();
  positional: string[];
  private readonly name: string;
  private errexit: boolean;
  nounset: boolean;
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
      return await this.runCommand({ argv, assigns, io: rio, line: cmd.line });
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
      const sink = this.openSink(target, { append: r.op === '>>', line: cmd.line, io, fds });
      if (typeof sink === 'number') return sink;
      fds[r.fd] = sink;
    }
    return { stdin, out: fds[1] ?? { write: () => {} }, err: fds[2] ?? { write: () => {} } };
  }

  private openSink(
    target: string,
    { append, line, io, fds }: { append: boolean; line: number; io: Io; fds: Array<Sink | undefined> },
  ): Sink | number {
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

  private async runCommand({
    argv,
    assigns,
    io,
    line,
  }: {
    argv: string[];
    assigns: Array<[string, string]>;
    io: Io;
    line: number;
  }): Promise<number> {
    const [name, ...args] = argv;
    if (name === undefined) return 0;
    const builtin = BUILTINS[name];
    if (builtin) {
      const saved = assigns.map(([k]) => [k, this.vars.get(k)] as const);
      for (const [k, v] of assigns) this.vars.set(k, v);
      try {
        return await builtin({ sh: this, args, io, line });
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
    const r = await this.host.exec({ argv, env, stdin: io.stdin, merged: io.out === io.err });
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

  /** Expands a word; unquoted expansions are split on blanks when `split` (expand.ts). */
  private expandWord(word: Word, io: Io, split: boolean): Promise<string[]> {
    return expandWord(this, word, { io, split });
  }

  assign(name: string, value: string): void {
    this.vars.set(name, value);
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

  async commandSubst(script: Script, io: Io): Promise<string> {
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

  lookup(name: string): string | undefined {
    if (name === '?') return String(this.status);
    if (name === '#') return String(this.positional.length);
    if (name === '$') return String(this.pid);
    if (name === '!') return this.lastBg;
    if (name === '-') return `${this.errexit ? 'e' : ''}${this.nounset ? 'u' : ''}`;
    if (name === '0') return this.name;
    if (/^[1-9]$/.test(name)) return this.positional[Number(name) - 1];
    return this.vars.get(name);
  }

  // ---- builtins (builtins.ts calls them on the shell it is given) ----
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
    const code = await this.runCommand({ argv: args, assigns: [], io, line });
    throw new ExitSignal(code);
  }

  bCommand(args: string[], io: Io): number | Promise<number> {
    if (args[0] !== '-v') return this.runCommand({ argv: args, assigns: [], io, line: 0 });
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
