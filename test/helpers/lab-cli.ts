/**
 * Whole-command tests on the embedded lab: a fresh lab with fast timings on its virtual clock
 * in a temp dir, its inventory beside it, and the built CLI run as a child process (real argv,
 * exit status, stdout/stderr, no TTY), or, for a file that calls `cliInProcess()`, through the
 * same entry point in this process (see runCliInProcess).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { initLab, renderLabInventory, type Lab, type LabInitOptions } from '../../src/lab/index.js';
import { repoRoot } from './fixtures.js';

export const FAST_TIMING = { installMs: 20, restartMs: 40, drainPerPodMs: 2, pctExecMs: 0, sshRttMs: 0 };

export interface LabFixture {
  lab: Lab;
  dir: string;
  inventory: string;
  env: NodeJS.ProcessEnv;
  cli(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CliResult>;
  cleanup(): void;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function labFixture(opts: Partial<Omit<LabInitOptions, 'dir'>> = {}): Promise<LabFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-labtest-'));
  // The lab's virtual clock: a command takes the time of its work, not of its waits.
  const lab = await initLab({ dir: join(dir, 'lab'), clock: 'virtual', ...opts, timing: { ...FAST_TIMING, ...opts.timing } });
  const inventory = join(dir, 'pve-k3s.yaml');
  writeFileSync(inventory, renderLabInventory(lab));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    NO_COLOR: '1',
  };
  delete env['CI'];
  return {
    lab,
    dir,
    inventory,
    env,
    cli: (args, o = {}) => (inProcess ? runCliInProcess : runCli)(args, { cwd: dir, env, ...o }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

let inProcess = false;
/**
 * From now on this file's fixtures run the CLI in this process (runCliInProcess): for files
 * whose commands run one at a time and read no stdin. A CLI process costs ~0.15 s to start and
 * runs its code cold (~0.5 s of CPU for a plan on the lab); in-process it is the same code warm.
 */
export function cliInProcess(): void {
  // PVE_K3S_TEST_CLI=process runs them as processes again (to compare, or to rule this out).
  inProcess = process.env['PVE_K3S_TEST_CLI'] !== 'process';
}

let queue: Promise<unknown> = Promise.resolve();
/**
 * The CLI as bin.ts runs it (main(), and reportError for what it throws), in this process: the
 * working directory and environment are the command's while it runs, and what it writes to
 * stdout/stderr is captured. One at a time (cwd and env are the process's). A command given
 * stdin runs as a child process (runCli). What is left to a process of its own: the exit of
 * bin.ts itself, signals, stdin, and two commands at once.
 */
export function runCliInProcess(args: string[], o: CliOptions): Promise<CliResult> {
  if (o.input) return runCli(args, o);
  const run = queue.then(() => inProcessRun(args, o));
  queue = run.catch(() => undefined);
  return run;
}

/** What the command run in this process writes; other writers (the test runner's own reports) pass through. */
const output = new AsyncLocalStorage<{ stdout: string; stderr: string }>();
let captured = false;
function captureOutput(): void {
  if (captured) return;
  captured = true;
  for (const [stream, key] of [
    [process.stdout, 'stdout'],
    [process.stderr, 'stderr'],
  ] as const) {
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown): boolean => {
      const into = output.getStore();
      if (!into) return write(chunk, enc, cb);
      into[key] +=
        typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8');
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') process.nextTick(done);
      return true;
    }) as typeof stream.write;
  }
}

async function inProcessRun(args: string[], o: CliOptions): Promise<CliResult> {
  const [{ main }, { reportError }] = await Promise.all([import('../../src/cli/main.js'), import('../../src/cli/report-error.js')]);
  captureOutput();
  const env = { ...process.env };
  const cwd = process.cwd();
  const setEnv = (to: NodeJS.ProcessEnv) => {
    for (const k of Object.keys(process.env)) if (!(k in to)) delete process.env[k];
    for (const [k, v] of Object.entries(to)) if (v !== undefined) process.env[k] = v;
  };
  const out = { stdout: '', stderr: '' };
  let timer: NodeJS.Timeout | undefined;
  try {
    setEnv(o.env);
    process.chdir(o.cwd);
    const ms = o.timeoutMs ?? 120_000;
    const code = await Promise.race([
      output.run(out, () => main(args).catch((err: unknown) => reportError(err, args.includes('--verbose')))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`pve-k3s ${args.join(' ')} did not finish within ${ms} ms\nstdout:${out.stdout}\nstderr:${out.stderr}`)),
          ms,
        );
      }),
    ]);
    return { code, ...out };
  } finally {
    clearTimeout(timer);
    process.chdir(cwd);
    setEnv(env);
  }
}

export function runCli(args: string[], o: CliOptions): Promise<CliResult> {
  const bin = join(repoRoot(), 'dist', 'src', 'cli', 'bin.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pve-k3s ${args.join(' ')} did not finish within ${o.timeoutMs ?? 120_000} ms\nstdout:${stdout}\nstderr:${stderr}`));
    }, o.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** The node table in a command's output: its header line and the rows after it (each starts with a node's name). */
export function nodeTable(stdout: string): string[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('NODE '));
  assert.ok(at >= 0, `no node table in:\n${stdout}`);
  const end = lines.findIndex((l, i) => i > at && !l.startsWith('k3s-'));
  return lines.slice(at, end < 0 ? undefined : end);
}
