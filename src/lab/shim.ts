#!/usr/bin/env node
/**
 * Executable entry for a REAL shell (sshd in an end-to-end test) to reach the lab:
 * `node shim.js <labDir> <host> <pct|pvesh> [args...]`, forwarding stdin (for `pct exec`),
 * stdout, stderr and the exit status. Written as `pct`/`pvesh` wrappers by installShims().
 */
import { openLab } from './lab.js';
import { ShellError } from '../core/errors.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(argv: string[]): Promise<number> {
  const [dir, host, ...cmd] = argv;
  if (!dir || !host || cmd.length === 0) {
    process.stderr.write('usage: shim <labDir> <host> <program> [args...]\n');
    return 2;
  }
  const lab = await openLab(dir, { realHostFs: true });
  // Only `pct exec` forwards stdin; other commands must not wait for an EOF that may never come.
  const stdin = cmd[0] === 'pct' && cmd[1] === 'exec' ? await readStdin() : '';
  try {
    const r = await lab.shell(host).run(cmd, { stdin });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    if (e instanceof ShellError && e.unreachable) {
      process.stderr.write('Connection to host closed by remote host.\n');
      return 255;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`pve-k3s lab shim: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 255;
  },
);
