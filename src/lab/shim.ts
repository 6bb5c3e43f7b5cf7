#!/usr/bin/env node
/**
 * Executable entry for a REAL shell (sshd in an end-to-end test) to reach the lab:
 * `node shim.js <labDir> <host> <pct|pvesh> [args...]`, forwarding stdin (for `pct exec`),
 * stdout, stderr and the exit status. Written as `pct`/`pvesh` wrappers by installShims().
 */
import { openLab } from './lab.js';
import { ShellError } from '../domain/errors.js';
import type { Shell } from '../shell/shell.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = pending;
  for (let c = await chunks().next(); !c.done; c = await chunks().next()) text += (c.value as Buffer).toString('utf8');
  return text;
}

let pending = '';
let iterator: AsyncIterator<unknown> | undefined;
/** One iterator over stdin for both readers (leaving a for-await loop would destroy the stream). */
function chunks(): AsyncIterator<unknown> {
  iterator ??= process.stdin[Symbol.asyncIterator]();
  return iterator;
}

/**
 * `pct exec <vmid> -- sh -s` as a session (shell/session.ts): a real sh runs each line as it
 * arrives, so when the first line is a session request, every line is run on its own (requests
 * are self-contained) and its output written at once. Otherwise the whole stdin is the script
 * (undefined is returned after buffering what was read into \`pending\`).
 */
async function sessionLines(shell: Shell, cmd: string[]): Promise<number | undefined> {
  if (process.stdin.isTTY) return undefined;
  let buf = '';
  let session: boolean | undefined;
  for (let c = await chunks().next(); !c.done; c = await chunks().next()) {
    buf += (c.value as Buffer).toString('utf8');
    if (session === undefined) {
      if (!buf.includes('\n')) continue;
      session = buf.startsWith(`printf '%s\\n' '@@pve-k3s:`);
      if (!session) {
        pending = buf;
        return undefined;
      }
    }
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl + 1);
      buf = buf.slice(nl + 1);
      const r = await shell.run(cmd, { stdin: line });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      if (r.code === 255 && !r.stdout.includes('@@pve-k3s:')) return 255; // pct itself failed: the session ends
    }
  }
  if (session === undefined) pending = buf;
  return session ? 0 : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [dir, host, ...cmd] = argv;
  if (!dir || !host || cmd.length === 0) {
    process.stderr.write('usage: shim <labDir> <host> <program> [args...]\n');
    return 2;
  }
  const lab = await openLab(dir, { realHostFs: true });
  if (cmd[0] === 'pct' && cmd[1] === 'exec' && cmd[cmd.length - 2] === 'sh' && cmd[cmd.length - 1] === '-s') {
    const session = await sessionLines(lab.shell(host), cmd);
    if (session !== undefined) return session;
  }
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
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`pve-k3s lab shim: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 255;
  },
);
