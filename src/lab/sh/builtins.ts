/** The lab's sh builtins: the table the interpreter looks names up in, and the special ones (POSIX 2.14). */
import { formatPrintf } from '../printf.js';
import { evalTest } from './test.js';
import type { BuiltinCall } from './types.js';

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

export type Builtin = (call: BuiltinCall) => number | Promise<number>;

export const BUILTINS: Record<string, Builtin | undefined> = {
  ':': () => 0,
  true: () => 0,
  false: () => 1,
  echo: ({ args, io }) => {
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
  printf: ({ args, io }) => {
    const r = formatPrintf(args);
    io.out.write(r.out);
    if (r.error) io.err.write(`printf: ${r.error}\n`);
    return r.error ? 1 : 0;
  },
  exit: ({ sh, args }) => sh.bExit(args),
  export: ({ sh, args, io }) => sh.bExport(args, io),
  set: ({ sh, args, io, line }) => sh.bSet(args, io, line),
  unset: ({ sh, args }) => sh.bUnset(args),
  wait: ({ sh, args }) => sh.bWait(args),
  shift: ({ sh, args, io }) => sh.bShift(args, io),
  eval: ({ sh, args, io }) => sh.bEval(args, io),
  exec: ({ sh, args, io, line }) => sh.bExec(args, io, line),
  command: ({ sh, args, io }) => sh.bCommand(args, io),
  cd: ({ sh, args, io }) => sh.bCd(args, io),
  pwd: ({ io }) => {
    io.out.write('/root\n');
    return 0;
  },
  test: (call) => testBuiltin(call, 'test'),
  '[': (call) => {
    const { args, io } = call;
    if (args[args.length - 1] !== ']') {
      io.err.write(`sh: [: missing ]\n`);
      return 2;
    }
    return testBuiltin({ ...call, args: args.slice(0, -1) }, '[');
  },
};

function unescape(s: string): string {
  return s.replace(/\\([ntr\\]|0[0-7]{0,3})/g, (_m, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === '\\' ? '\\' : String.fromCharCode(parseInt(c, 8)),
  );
}

function testBuiltin({ sh, args, io }: BuiltinCall, name: string): number {
  const r = evalTest(args, sh.host);
  if (typeof r === 'string') {
    io.err.write(`sh: ${name}: ${r}\n`);
    return 2;
  }
  return r ? 0 : 1;
}
