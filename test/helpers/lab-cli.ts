/**
 * Whole-command tests on the embedded lab: a fresh lab with fast timings on its virtual clock
 * in a temp dir, its inventory beside it, and the built CLI run as a child process (real argv,
 * exit status, stdout/stderr, no TTY).
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
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
    XDG_CONFIG_HOME: join(dir, 'config'),
    NO_COLOR: '1',
  };
  delete env['CI'];
  return {
    lab,
    dir,
    inventory,
    env,
    cli: (args, o = {}) => runCli(args, { cwd: dir, env, ...o }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function runCli(args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string }): Promise<CliResult> {
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
