/**
 * The lab's own host programs over the harness's client (`lab-client.pl <socket> shim <host>
 * <program> [args...]`, daemon.ts), as src/lab/shim.ts runs them in a process of its own: the
 * real-sh hosts' `pvesh` (their `pct` is lab-pct.ts). Only `pct exec` reads stdin (all of it).
 */
import { ShellError } from '../../../src/domain/errors.js';
import { LabShell } from '../../../src/lab/lab-shell.js';
import { callContext, type Handler } from './daemon.js';

export const labShim: Handler = async (call, d) => {
  const [host, ...cmd] = call.args;
  if (!host || cmd.length === 0) return { code: 2, stdout: '', stderr: 'usage: shim <host> <program> [args...]\n' };
  const ctx = callContext(d.cfg.labDir, call.signal);
  if (!ctx.store.read().hosts.some((h) => h.name === host)) throw new Error(`lab ${d.cfg.labDir} has no host "${host}"`);
  const stdin = cmd[0] === 'pct' && cmd[1] === 'exec' && !call.stdinIsTty ? await call.stdin() : '';
  try {
    return await new LabShell(host, ctx).run(cmd, { stdin });
  } catch (e) {
    if (e instanceof ShellError && e.unreachable) return { code: 255, stdout: '', stderr: 'Connection to host closed by remote host.\n' };
    throw e;
  }
};
