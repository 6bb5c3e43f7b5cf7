/** Running the lab's sh: a script text (runSh), or `sh` as a program with its options (runShProgram). */
import { parseScript, ShSyntaxError, type Script } from './parse.js';
import { Interp } from './interp.js';
import type { ExecResult, Invocation, Io, ShHost, ShOptions } from './types.js';

/** Runs a script text (with `stdin`, default none); a parse error is exit 2 with `sh: <line>: <message>` on stderr. */
export async function runSh(script: string, host: ShHost, { stdin = '', ...opts }: ShOptions & { stdin?: string }): Promise<ExecResult> {
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

/** Parses `sh` options and runs it: `sh -c 'script' [name args]`, `sh -s [-|--] args`, `sh file args`, `sh` (stdin). */
export async function runShProgram(host: ShHost, { argv, env, stdin }: Invocation): Promise<ExecResult> {
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
    return runSh(script, host, { ...opts, name: name ?? 'sh', args, stdin });
  }
  if (mode === 's' || rest.length === 0) return runSh(stdin, host, { ...opts, args: rest });
  const [file, ...args] = rest;
  const f = host.readFile(file ?? '');
  if ('error' in f) return { code: 2, stdout: '', stderr: `sh: 0: cannot open ${file}: No such file\n` };
  return runSh(f.content, host, { ...opts, name: file ?? 'sh', args, stdin });
}
