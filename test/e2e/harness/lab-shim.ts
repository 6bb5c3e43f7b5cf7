/**
 * The lab's own host programs over the harness's client (`lab-client.pl <socket> shim <host>
 * <program> [args...]`, daemon.ts), as src/lab/shim.ts runs them in a Node process each: the
 * real-sh hosts' `pvesh` (their `pct` is lab-pct.ts), and `pct` and `pvesh` of the hosts of
 * startLabShims(), whose containers are the lab's alone (no real roots).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellError } from '../../../src/domain/errors.js';
import type { Lab } from '../../../src/lab/lab.js';
import { LabShell } from '../../../src/lab/lab-shell.js';
import type { Shell } from '../../../src/shell/shell.js';
import type { RootsConfig } from './ct-sandbox.js';
import { callContext, type Answer, type Call, type Handler } from './daemon.js';
import { startDaemon } from './daemon-process.js';

const SESSION_START = `printf '%s\\n' '@@pve-k3s:`;

/**
 * `pct exec <vmid> -- sh -s` as a session (src/shell/session.ts): a real sh runs each line as
 * it arrives, so when the first line is a session request every line is run on its own
 * (requests are self-contained) and its output written at once. Otherwise the whole stdin is
 * the script.
 */
async function session(call: Call, shell: Shell, cmd: string[]): Promise<Answer> {
  const it = call.stdinChunks()[Symbol.asyncIterator]();
  let buf = '';
  let isSession: boolean | undefined;
  for (let c = await it.next(); !c.done; c = await it.next()) {
    buf += c.value;
    if (isSession === undefined) {
      if (!buf.includes('\n')) continue;
      isSession = buf.startsWith(SESSION_START);
      if (!isSession) break;
    }
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl + 1);
      buf = buf.slice(nl + 1);
      const r = await shell.run(cmd, { stdin: line });
      call.write('out', r.stdout);
      call.write('err', r.stderr);
      // pct itself failed: the session ends.
      if (r.code === 255 && !r.stdout.includes('@@pve-k3s:')) return { code: 255, stdout: '', stderr: '' };
    }
  }
  if (isSession) return { code: 0, stdout: '', stderr: '' };
  for (let c = await it.next(); !c.done; c = await it.next()) buf += c.value;
  return shell.run(cmd, { stdin: buf });
}

export const labShim: Handler = async (call, d) => {
  const [host, ...cmd] = call.args;
  if (!host || cmd.length === 0) return { code: 2, stdout: '', stderr: 'usage: shim <host> <program> [args...]\n' };
  const ctx = callContext(d.cfg.labDir, call.signal);
  if (!ctx.store.read().hosts.some((h) => h.name === host)) throw new Error(`lab ${d.cfg.labDir} has no host "${host}"`);
  const shell = new LabShell(host, ctx);
  // Only `pct exec` forwards stdin; other commands must not wait for an EOF that may never come.
  const pctExec = cmd[0] === 'pct' && cmd[1] === 'exec' && !call.stdinIsTty;
  try {
    if (pctExec && cmd[cmd.length - 2] === 'sh' && cmd[cmd.length - 1] === '-s') return await session(call, shell, cmd);
    return await shell.run(cmd, { stdin: pctExec ? await call.stdin() : '' });
  } catch (e) {
    if (e instanceof ShellError && e.unreachable) return { code: 255, stdout: '', stderr: 'Connection to host closed by remote host.\n' };
    throw e;
  }
};

export interface LabShims {
  stop(): Promise<void>;
}

/**
 * Writes `pct` and `pvesh` of each lab host into its directory (`binDirs`, by host name), as
 * installShims() of src/lab does, but as calls of one harness daemon started here (a Perl
 * start per call instead of a Node start and the lab's imports). stop() ends the daemon.
 */
export async function startLabShims(lab: Lab, binDirs: Record<string, string>): Promise<LabShims> {
  for (const host of Object.keys(binDirs))
    if (!lab.hosts().includes(host)) throw new Error(`lab ${lab.dir} has no host "${host}" (hosts: ${lab.hosts().join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-shims-'));
  // No container roots here: only the lab's programs are served.
  const cfg: RootsConfig = { labDir: lab.dir, shell: 'dash', bwrap: '' };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  let daemon;
  try {
    daemon = await startDaemon(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  for (const [host, binDir] of Object.entries(binDirs))
    for (const prog of ['pct', 'pvesh'])
      writeFileSync(join(binDir, prog), `#!/bin/sh\n# pve-k3s lab shim for host ${host}\nexec ${daemon.call('shim', host, prog)} "$@"\n`, {
        mode: 0o755,
      });
  const running = daemon;
  return {
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
