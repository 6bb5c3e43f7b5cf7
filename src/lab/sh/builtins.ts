/** The lab's sh builtins: the table the interpreter looks names up in, and the special ones (POSIX 2.14). */
import { formatPrintf } from '../printf.js';
import { evalTest } from './test.js';
import type { BuiltinShell, Io } from './types.js';

/** Special built-ins (POSIX 2.14): assignments before them stay in the shell. */
export const SPECIAL = new Set([
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

export type Builtin = (this: BuiltinShell, args: string[], io: Io, line: number) => number | Promise<number>;

export const BUILTINS: Record<string, Builtin | undefined> = {
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

function testBuiltin(interp: BuiltinShell, args: string[], io: Io, name: string): number {
  const r = evalTest(args, interp.host);
  if (typeof r === 'string') {
    io.err.write(`sh: ${name}: ${r}\n`);
    return 2;
  }
  return r ? 0 : 1;
}
