/**
 * The handful of standard utilities scripts use on a host or in a container, with GNU
 * coreutils' messages. An option a utility does not model is an error, never ignored.
 */
import { createHash } from 'node:crypto';
import { formatPrintf } from './printf.js';
import { evalTest, type ExecResult } from './sh.js';
import { machineRead, machineTest, type Machine } from './machine.js';
import { describe, listDir, mkdirp, normalizePath, remove, resolve, writeFile, dirname } from './vfs.js';

/** The time as the machine sees it (a container may run ahead of the lab: its clock offset). */
export interface MachineClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** What a utility runs with besides its arguments: its stdin, the machine it runs on, and that machine's clock. */
export interface UtilRun {
  stdin: string;
  machine: Machine;
  clock: MachineClock;
}

type Util = (args: string[], run: UtilRun) => ExecResult | Promise<ExecResult>;

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const err = (code: number, stderr: string, stdout = ''): ExecResult => ({ code, stdout, stderr });

/** Splits `-abc` style flags from operands; returns an error text for a flag outside `allowed`. */
function flags(name: string, args: string[], allowed: string): { set: Set<string>; rest: string[] } | ExecResult {
  const set = new Set<string>();
  const rest: string[] = [];
  let operandsOnly = false;
  for (const a of args) {
    if (operandsOnly || !a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    if (a === '--') {
      operandsOnly = true;
      continue;
    }
    for (const f of a.slice(1)) {
      if (!allowed.includes(f)) return err(1, `${name}: the lab does not model option -- '${f}'\n`);
      set.add(f);
    }
  }
  return { set, rest };
}

const UTILS: Record<string, Util> = {
  cat: (args, { stdin, machine: m }) => {
    let out = '';
    let stderr = '';
    for (const a of args.length ? args : ['-']) {
      if (a === '-') {
        out += stdin;
        continue;
      }
      const r = machineRead(m, a);
      if ('error' in r) stderr += `cat: ${a}: ${r.error}\n`;
      else out += r.content;
    }
    return { code: stderr ? 1 : 0, stdout: out, stderr };
  },
  echo: (args) => ok(`${args.join(' ')}\n`),
  printf: (args) => {
    const r = formatPrintf(args);
    return r.error ? err(1, `printf: ${r.error}\n`, r.out) : ok(r.out);
  },
  true: () => ok(),
  false: () => err(1, ''),
  test: (args, { machine: m }) => {
    const r = evalTest(args, { fileTest: (op, p) => machineTest(m, op, p) });
    return typeof r === 'string' ? err(2, `test: ${r}\n`) : err(r ? 0 : 1, '');
  },
  '[': (args, { machine: m }) => {
    if (args[args.length - 1] !== ']') return err(2, '[: missing ]\n');
    const r = evalTest(args.slice(0, -1), { fileTest: (op, p) => machineTest(m, op, p) });
    return typeof r === 'string' ? err(2, `[: ${r}\n`) : err(r ? 0 : 1, '');
  },
  hostname: (_a, { machine: m }) => ok(`${m.name}\n`),
  uname: (args) => {
    if (args.length === 0 || args[0] === '-s') return ok('Linux\n');
    if (args[0] === '-m') return ok('x86_64\n');
    if (args[0] === '-r') return ok('6.8.12-4-pve\n');
    if (args[0] === '-a') return ok('Linux lab 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 x86_64 GNU/Linux\n');
    return err(1, `uname: the lab does not model ${args[0] ?? ''}\n`);
  },
  id: (args) => (args[0] === '-u' ? ok('0\n') : ok('uid=0(root) gid=0(root) groups=0(root)\n')),
  sleep: async (args, { clock }) => {
    const n = Number((args[0] ?? '').replace(/s$/, ''));
    if (args.length !== 1 || !Number.isFinite(n)) return err(1, `sleep: invalid time interval '${args[0] ?? ''}'\n`);
    await clock.sleep(n * 1000);
    return ok();
  },
  mkdir: (args, { machine: m }) => {
    // `-m MODE` (octal), as the real mkdir: the directory gets exactly that mode.
    const mi = args.indexOf('-m');
    const mode = mi >= 0 ? parseInt(args[mi + 1] ?? '', 8) : 0o755;
    if (mi >= 0 && !(mode >= 0 && mode <= 0o7777)) return err(1, `mkdir: invalid mode '${args[mi + 1] ?? ''}'\n`);
    const f = flags('mkdir', mi >= 0 ? [...args.slice(0, mi), ...args.slice(mi + 2)] : args, 'p');
    if ('code' in f) return f;
    let stderr = '';
    m.mutate((fs) => {
      for (const d of f.rest) {
        const p = normalizePath(d);
        if (f.set.has('p')) {
          const e = mkdirp(fs, p);
          if (e) stderr += `mkdir: cannot create directory '${d}': ${describe(e)}\n`;
          continue;
        }
        if (fs[p]) {
          stderr += `mkdir: cannot create directory '${d}': File exists\n`;
          continue;
        }
        if (!fs[dirname(p)]?.dir) {
          stderr += `mkdir: cannot create directory '${d}': No such file or directory\n`;
          continue;
        }
        fs[p] = { content: '', mode, dir: true };
      }
    });
    return { code: stderr ? 1 : 0, stdout: '', stderr };
  },
  rm: (args, { machine: m }) => {
    const f = flags('rm', args, 'rfRv');
    if ('code' in f) return f;
    let stderr = '';
    m.mutate((fs) => {
      for (const p of f.rest) {
        const e = remove(fs, p, f.set.has('r') || f.set.has('R'));
        if (e === 'ENOENT' && f.set.has('f')) continue;
        if (e) stderr += `rm: cannot remove '${p}': ${describe(e)}\n`;
      }
    });
    return { code: stderr ? 1 : 0, stdout: '', stderr };
  },
  touch: (args, { machine: m }) => {
    let stderr = '';
    m.mutate((fs) => {
      for (const p of args) {
        if (resolve(fs, p).entry) continue;
        const e = writeFile(fs, p, { content: '' });
        if (e) stderr += `touch: cannot touch '${p}': ${describe(e)}\n`;
      }
    });
    return { code: stderr ? 1 : 0, stdout: '', stderr };
  },
  chmod: (args, { machine: m }) => {
    const [mode, ...paths] = args;
    if (!mode || !/^[0-7]{3,4}$|^[+]x$/.test(mode)) return err(1, `chmod: the lab models only octal modes and +x (got '${mode ?? ''}')\n`);
    let stderr = '';
    m.mutate((fs) => {
      for (const p of paths) {
        const e = resolve(fs, p);
        if (!e.entry) {
          stderr += `chmod: cannot access '${p}': No such file or directory\n`;
          continue;
        }
        e.entry.mode = mode === '+x' ? e.entry.mode | 0o111 : parseInt(mode, 8);
      }
    });
    return { code: stderr ? 1 : 0, stdout: '', stderr };
  },
  ls: (args, { machine: m }) => {
    const f = flags('ls', args, '1a');
    if ('code' in f) return f;
    let out = '';
    let stderr = '';
    for (const p of f.rest.length ? f.rest : ['/root']) {
      const e = resolve(m.fs(), p).entry;
      if (!e) stderr += `ls: cannot access '${p}': No such file or directory\n`;
      else if (e.dir)
        out += listDir(m.fs(), p)
          .map((x) => `${x}\n`)
          .join('');
      else out += `${p}\n`;
    }
    return { code: stderr ? 2 : 0, stdout: out, stderr };
  },
  cp: (args, { machine }) => copyOrMove('cp', args, machine),
  mv: (args, { machine }) => copyOrMove('mv', args, machine),
  tee: (args, { stdin, machine: m }) => {
    const f = flags('tee', args, 'a');
    if ('code' in f) return f;
    let stderr = '';
    m.mutate((fs) => {
      for (const p of f.rest) {
        const e = writeFile(fs, p, { content: stdin, append: f.set.has('a') });
        if (e) stderr += `tee: ${p}: ${describe(e)}\n`;
      }
    });
    return { code: stderr ? 1 : 0, stdout: stdin, stderr };
  },
  sha256sum: (args, { stdin, machine: m }) => {
    let out = '';
    let stderr = '';
    for (const a of args.length ? args : ['-']) {
      const r = a === '-' ? { content: stdin } : machineRead(m, a);
      if ('error' in r) stderr += `sha256sum: ${a}: ${r.error}\n`;
      else out += `${createHash('sha256').update(r.content).digest('hex')}  ${a}\n`;
    }
    return { code: stderr ? 1 : 0, stdout: out, stderr };
  },
  head: (args, run) => lines('head', args, run),
  tail: (args, run) => lines('tail', args, run),
  wc: (args, { stdin }) => {
    if (args[0] !== '-l' || args.length > 1) return err(1, 'wc: the lab models only wc -l on stdin\n');
    return ok(`${stdin.split('\n').length - (stdin.endsWith('\n') || stdin === '' ? 1 : 0)}\n`);
  },
  grep: (args, { stdin, machine: m }) => {
    const f = flags('grep', args, 'qvEFic');
    if ('code' in f) return f;
    const [pattern, ...files] = f.rest;
    if (pattern === undefined) return err(2, 'Usage: grep [OPTION]... PATTERNS [FILE]...\n');
    let text = stdin;
    if (files.length > 0) {
      const r = machineRead(m, files[0] ?? '');
      if ('error' in r) return err(2, `grep: ${files[0] ?? ''}: ${r.error}\n`);
      text = r.content;
    }
    const src = f.set.has('F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern;
    const re = new RegExp(f.set.has('E') || f.set.has('F') ? src : src.replace(/\\\|/g, '|'), f.set.has('i') ? 'i' : '');
    const hits = text.split('\n').filter((l, i, all) => (i < all.length - 1 || l !== '') && re.test(l) !== f.set.has('v'));
    if (f.set.has('q')) return err(hits.length ? 0 : 1, '');
    if (f.set.has('c')) return err(hits.length ? 0 : 1, '', `${hits.length}\n`);
    return err(hits.length ? 0 : 1, '', hits.map((l) => `${l}\n`).join(''));
  },
  date: (args, { clock }) =>
    args.length === 0
      ? ok(`${new Date(clock.now()).toUTCString()}\n`)
      : args.length === 1 && args[0] === '+%s'
        ? ok(`${Math.floor(clock.now() / 1000)}\n`)
        : err(1, `date: the lab models only date and date +%s\n`),
  base64: (args, { stdin, machine: m }) => {
    const decode = args.includes('-d') || args.includes('--decode');
    const files = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-w');
    if (decode) {
      if (files.length > 0) return err(1, 'base64: the lab models only "base64 -d" on stdin\n');
      return ok(Buffer.from(stdin.replace(/\s+/g, ''), 'base64').toString('utf8'));
    }
    let text = stdin;
    if (files[0] !== undefined) {
      const r = machineRead(m, files[0]);
      if ('error' in r) return err(1, `base64: ${files[0]}: ${r.error}\n`);
      text = r.content;
    }
    const b = Buffer.from(text, 'utf8').toString('base64');
    const wrap = args.includes('-w') && args[args.indexOf('-w') + 1] === '0' ? b : (b.match(/.{1,76}/g) ?? []).join('\n');
    return ok(`${wrap}\n`);
  },
  basename: (args) => ok(`${(args[0] ?? '').replace(/\/+$/, '').split('/').pop() ?? ''}\n`),
  dirname: (args) => ok(`${dirname(args[0] ?? '.')}\n`),
  readlink: (args, { machine: m }) => {
    const p = args[args.length - 1] ?? '';
    if (args.includes('-f')) return ok(`${resolve(m.fs(), p).path}\n`);
    const l = m.fs()[normalizePath(p)]?.link;
    return l === undefined ? err(1, '') : ok(`${l}\n`);
  },
};

function lines(name: 'head' | 'tail', args: string[], { stdin, machine: m }: UtilRun): ExecResult {
  let n = 10;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-n') n = Number(args[++i]);
    else if (/^-n?\d+$/.test(a)) n = Number(a.replace(/^-n?/, ''));
    else if (a.startsWith('-')) return err(1, `${name}: the lab does not model ${a}\n`);
    else files.push(a);
  }
  let text = stdin;
  if (files[0] !== undefined) {
    const r = machineRead(m, files[0]);
    if ('error' in r) return err(1, `${name}: cannot open '${files[0]}' for reading: ${r.error}\n`);
    text = r.content;
  }
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  const pick = name === 'head' ? all.slice(0, n) : all.slice(Math.max(0, all.length - n));
  return ok(pick.map((l) => `${l}\n`).join(''));
}

/** `cp` or `mv` (which also removes the source). */
function copyOrMove(name: 'cp' | 'mv', args: string[], m: Machine): ExecResult {
  const move = name === 'mv';
  const f = flags(name, args, 'fp');
  if ('code' in f) return f;
  const [src, dst] = f.rest;
  if (src === undefined || dst === undefined || f.rest.length > 2) return err(1, `${name}: the lab models only '${name} SRC DST'\n`);
  return m.mutate((fs) => {
    const s = resolve(fs, src).entry;
    if (!s || s.dir) return err(1, `${name}: cannot stat '${src}': ${s ? 'Is a directory' : 'No such file or directory'}\n`);
    const target = resolve(fs, dst).entry?.dir ? `${normalizePath(dst)}/${src.split('/').pop() ?? ''}` : dst;
    const e = writeFile(fs, target, { content: s.content, mode: s.mode });
    if (e) return err(1, `${name}: cannot create regular file '${dst}': ${describe(e)}\n`);
    if (move) delete fs[normalizePath(src)];
    return ok();
  });
}

export function coreutil(name: string): Util | undefined {
  return UTILS[name];
}
export const COREUTILS = Object.keys(UTILS);
