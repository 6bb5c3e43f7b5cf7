/**
 * A program of the lab's model run from a real root (see ct-root.ts): `kubectl`, `k3s`,
 * `systemctl`, `curl`, `sqlite3`, `findmnt`, `mount`, `df`, `stat` and the lab's install hook
 * are the harness's client (`lab-client.pl <socket> program "$0" "$@"`, daemon.ts) with the
 * path they were run as (`$0`) and their arguments. This syncs the root into the lab's state,
 * runs the model's program for that path in that container (the same code the in-process lab
 * runs: src/lab/container-exec.ts) with the client's environment, syncs back, and answers its
 * output and status. Which container: the root's ref file, which the client sends.
 */
import { execInContainer } from '../../../src/lab/container-exec.js';
import type { ExecContext } from '../../../src/lab/context.js';
import { findContainer } from '../../../src/lab/k3s-model.js';
import { rootInStep, syncRoot } from './ct-root.js';
import { rootDirOf } from './ct-sandbox.js';
import { callContext, type Handler } from './daemon.js';

/** kubectl reads stdin only for `-f -` (apply, create, replace); others must not wait for an EOF. */
function readsStdin(args: readonly string[]): boolean {
  return args.some((a, i) => a === '--filename=-' || a === '-f=-' || ((a === '-f' || a === '--filename') && args[i + 1] === '-'));
}

function syncContainer(ctx: ExecContext, host: string, vmid: number, rootDir: string): void {
  const now = findContainer(ctx.store.read(), host, vmid);
  if (now && rootInStep(rootDir, now.ct.fs)) return;
  ctx.store.update((s) => {
    const loc = findContainer(s, host, vmid);
    if (loc) syncRoot(rootDir, loc.ct.fs);
  });
}

export const labProgram: Handler = async (call, d) => {
  const [path, ...args] = call.args;
  if (path === undefined) return { code: 2, stdout: '', stderr: 'usage: lab-program <path> [args...]\n' };
  const [host, vmidText] = call.ref.split(' ');
  if (host === undefined || vmidText === undefined || !/^\d+$/.test(vmidText))
    throw new Error(`the root's ref file (/run/pve-k3s-e2e/root/ref) has no "<host> <vmid>" line: ${JSON.stringify(call.ref)}`);
  const vmid = Number(vmidText);
  const ctx = callContext(d.cfg.labDir, call.signal);
  const rootDir = rootDirOf(d.rootsDir, host, vmid);
  const stdin = readsStdin(args) ? await call.stdin() : '';
  syncContainer(ctx, host, vmid, rootDir);
  // A model program may block forever (a unit that never comes up): the client waits as long.
  const r = await execInContainer(ctx, { host, vmid }, { argv: [path, ...args], env: call.env, stdin, via: 'sh' });
  syncContainer(ctx, host, vmid, rootDir);
  return r;
};
