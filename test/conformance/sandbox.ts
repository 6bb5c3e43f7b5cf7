/**
 * A throwaway root for running product scripts for real: the host's / read-only, with fresh
 * directories bound over /tmp, /var, /usr/local/bin (stub k3s and kubectl), /etc/systemd/system
 * and /opt (the stub programs, first on PATH), entered with bubblewrap. The
 * same stub programs serve dash, busybox sh and the lab's sh: for the lab's sh, each program
 * it starts is spawned inside the same root, and its redirections open the same files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runShProgram, type ExecResult, type ShHost } from '../../src/lab/sh.js';

export const STUB_DIR = '/opt';
export const PATH = `${STUB_DIR}:/usr/sbin:/usr/bin:/sbin:/bin`;

/**
 * Every stub: prints its name and arguments on stdout (`name[a][b]`), its stdin's size and a
 * line on stderr, and exits with the status written in `$STUB_STATE/<name>` (0 without one).
 * Deterministic, so two shells that run a script alike print alike.
 */
const STUB = `#!/bin/sh
n=\${0##*/}
printf '%s' "$n"
for a in "$@"; do printf '[%s]' "$a"; done
printf '\\n'
if [ "$n" = curl ] || [ "$n" = sqlite3 ] || [ "$n" = kubectl ] || [ "$n" = k3s ] || [ "$n" = pct ]; then
  printf '%s stdin %s\\n' "$n" "$(wc -c | tr -d ' ')" >&2
fi
printf '%s: said this on stderr\\n' "$n" >&2
code=0
[ -f /opt/state/"$n" ] && code=$(cat /opt/state/"$n")
exit "$code"
`;

export const STUBS = [
  'pct',
  'pvesh',
  'systemctl',
  'curl',
  'sqlite3',
  'findmnt',
  'df',
  'date',
  'mount',
  'hostname',
  'k3s',
  'kubectl',
  'base64',
  'sha256sum',
];

export function haveTools(): string | undefined {
  for (const t of ['bwrap', 'dash', 'busybox', 'shellcheck']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0)
      return `${t} is not installed (apt-get install bubblewrap dash busybox shellcheck)`;
  }
  if (spawnSync('bwrap', ['--ro-bind', '/', '/', 'true']).status !== 0) return 'bubblewrap cannot create a namespace here';
  return undefined;
}

/**
 * `test OP PATH` answered by bwrap for a path outside the fresh directories. The host's / is
 * bound read-only and --dev makes the same few nodes each time, so every sandbox gets the same
 * answer for the same question while the tests run: it is asked once (the lab's sh looks each
 * program up along PATH: three bwrap runs per command otherwise). /proc is each sandbox's own.
 */
const ROOT_TESTS = new Map<string, boolean>();
function rootTest(box: Sandbox, op: string, p: string): boolean {
  const ask = () => spawnSync('bwrap', [...box.bwrapArgs(), 'test', op, p]).status === 0;
  if (p === '/proc' || p.startsWith('/proc/')) return ask();
  const key = `${op} ${p}`;
  let answer = ROOT_TESTS.get(key);
  if (answer === undefined) ROOT_TESTS.set(key, (answer = ask()));
  return answer;
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'pve-k3s-conf-'));
  readonly binds: Array<[string, string]>;

  constructor(failing: Record<string, number> = {}) {
    const d = (p: string) => {
      const full = join(this.dir, p);
      mkdirSync(full, { recursive: true });
      return full;
    };
    this.binds = [
      ['/tmp', d('tmp')],
      ['/var', d('var')],
      ['/usr/local/bin', d('ulb')],
      ['/etc/systemd/system', d('systemd')],
      [STUB_DIR, d('stubs')],
    ];
    d('stubs/state');
    d('var/lib/rancher/k3s/server/db');
    for (const s of STUBS) {
      const where = s === 'k3s' || s === 'kubectl' ? 'ulb' : 'stubs';
      writeFileSync(join(this.dir, where, s), STUB);
      chmodSync(join(this.dir, where, s), 0o755);
    }
    for (const [name, code] of Object.entries(failing)) writeFileSync(join(this.dir, 'stubs/state', name), String(code));
  }

  /** The host path of a path inside the root (for the lab's sh's own file operations). */
  hostPath(p: string): string {
    for (const [inside, outside] of this.binds) {
      if (p === inside || p.startsWith(`${inside}/`)) return outside + p.slice(inside.length);
    }
    return p;
  }

  bwrapArgs(): string[] {
    return [
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      ...this.binds.flatMap(([i, o]) => ['--bind', o, i]),
      '--chdir',
      '/tmp',
    ];
  }

  /** Runs argv in the root: stdout and stderr apart, or (merged) both into one file, in order. */
  run(argv: string[], env: Record<string, string>, stdin: string, merged = false): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const mergedFile = merged ? join(this.dir, `merged-${Math.random().toString(36).slice(2)}`) : undefined;
      const fd = mergedFile ? openSync(mergedFile, 'w') : undefined;
      const child = spawn('bwrap', [...this.bwrapArgs(), '--', ...argv], {
        env,
        stdio: ['pipe', fd ?? 'pipe', fd ?? 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.stdin?.on('error', () => {});
      child.stdin?.end(stdin);
      child.on('error', reject);
      child.on('close', (code) => {
        if (fd !== undefined && mergedFile) {
          closeSync(fd);
          stdout = readFileSync(mergedFile, 'utf8');
          rmSync(mergedFile);
        }
        resolve({ code: code ?? 128, stdout, stderr });
      });
    });
  }

  /** The ShHost the lab's sh gets here: `sh` is the lab's sh itself, every other program runs in the root. */
  labHost(): ShHost {
    const host: ShHost = {
      exec: ({ argv, env, stdin, merged }) => {
        const base = (argv[0] ?? '').split('/').pop();
        if (base === 'sh' || base === 'dash') return runShProgram(host, { argv, env, stdin });
        // argv as typed: the program runs (and names itself) as under dash, bwrap finding it on PATH.
        return this.run(argv, env, stdin, merged);
      },
      which: (name, path) => {
        for (const dir of path.split(':')) {
          if (dir === '') continue;
          const p = `${dir}/${name}`;
          if (host.fileTest('-x', p) && !host.fileTest('-d', p)) return p;
        }
        return undefined;
      },
      readFile: (p) => {
        if (this.hostPath(p) === p) {
          const r = spawnSync('bwrap', [...this.bwrapArgs(), 'cat', p], { encoding: 'utf8' });
          return r.status === 0 ? { content: r.stdout } : { error: 'No such file' };
        }
        try {
          return { content: readFileSync(this.hostPath(p), 'utf8') };
        } catch (e) {
          return { error: (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'Is a directory' : 'No such file' };
        }
      },
      writeFile: (p, c, append) => {
        const hp = this.hostPath(p);
        if (!existsSync(join(hp, '..'))) return 'Directory nonexistent';
        try {
          writeFileSync(hp, c, { flag: append ? 'a' : 'w' });
          return undefined;
        } catch {
          return 'Permission denied';
        }
      },
      fileTest: (op, p) => {
        const hp = this.hostPath(p);
        // Outside the fresh directories the root is what bwrap makes of the host (its own /dev, /proc).
        if (hp === p) return rootTest(this, op, p);
        try {
          const st = statSync(hp);
          if (op === '-d') return st.isDirectory();
          if (op === '-f') return st.isFile();
          if (op === '-x') return (st.mode & 0o111) !== 0;
          if (op === '-s') return st.size > 0;
          return true;
        } catch {
          return false;
        }
      },
    };
    return host;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
