/**
 * `pct` on an e2e Proxmox host whose containers are real roots (the host's `pct` is the
 * harness's client, `lab-client.pl <socket> pct <host> <pct args...>`, daemon.ts).
 * `pct exec <vmid> [--] <cmd...>` runs cmd for real in the container's root (ct-sandbox.ts),
 * with the environment pct exec gives (PATH=/sbin:/bin:/usr/sbin:/usr/bin, HOME, TERM), stdin,
 * stdout and stderr passed straight through and cmd's exit status, as pve-container's `pct
 * exec` does (`lxc-attach -n <vmid> -- <extra-args>`: "container '<vmid>' not running!" and
 * "missing command" are pct's own errors, exit 255). Every other subcommand (list, config,
 * push, pull, snapshot, rollback, start, stop, set...) is the lab model's pct, with the host's
 * container roots synced before and after (a push lands in the root at once).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { findContainer } from '../../../src/lab/k3s-model.js';
import { argvVmid, consumeFault } from '../../../src/lab/faults.js';
import { applyEffect, LabConnectionDropped } from '../../../src/lab/fault-effect.js';
import { PCT_EXEC_PATH } from '../../../src/lab/container-exec.js';
import type { ExecContext } from '../../../src/lab/context.js';
import type { LabState } from '../../../src/lab/types.js';
import { LabShell } from '../../../src/lab/lab-shell.js';
import { ShellError } from '../../../src/domain/errors.js';
import { rootInStep, syncRoot } from './ct-root.js';
import { bwrapArgs, ensureRoot, rootDirOf } from './ct-sandbox.js';
import { callContext, type Answer, type Call, type Daemon, type Handler } from './daemon.js';
import { ensureHostRoot, HOST_MANAGED } from './host-sh.js';

/** Syncs every container of `host` that has a root (or, with `vmid`, that one, making its root). */
function syncHost(ctx: ExecContext, rootsDir: string, host: string, vmid?: number): void {
  if (vmid !== undefined) {
    const loc = findContainer(ctx.store.read(), host, vmid);
    if (loc) ensureRoot(rootsDir, host, loc.ct);
  }
  const rooted = (s: LabState) =>
    (s.hosts.find((h) => h.name === host)?.containers ?? [])
      .filter((ct) => vmid === undefined || ct.vmid === vmid)
      .map((ct) => ({ ct, dir: rootDirOf(rootsDir, host, ct.vmid) }))
      .filter(({ dir }) => existsSync(join(dir, 'ref')));
  if (rooted(ctx.store.read()).every(({ ct, dir }) => rootInStep(dir, ct.fs))) return;
  ctx.store.update((s) => {
    for (const { ct, dir } of rooted(s)) syncRoot(dir, ct.fs);
  });
}

const NOTHING = { stdout: '', stderr: '' };

async function exec(ctx: ExecContext, call: Call, d: Daemon): Promise<Answer | undefined> {
  const [host = '', , vmidText, ...rest] = call.args;
  if (vmidText === undefined || !/^\d+$/.test(vmidText)) return undefined;
  const vmid = Number(vmidText);
  const sep = rest.indexOf('--');
  const cmd = sep >= 0 ? rest.slice(sep + 1) : rest;
  const s = ctx.store.read();
  const loc = findContainer(s, host, vmid);
  // pct's own refusals (no such CT, not running, no command) come from the model's pct.
  if (!loc || loc.ct.status !== 'running' || cmd.length === 0) return undefined;
  // Faults on the host command fire as the in-process lab fires them (src/lab/lab-shell.ts).
  const argv = ['pct', ...call.args.slice(1)];
  const effect =
    s.faults.length === 0 ? undefined : ctx.store.update((st) => consumeFault(st, { level: 'host', host, vmid: argvVmid(argv), argv }));
  if (effect) {
    const r = await applyEffect(ctx, effect);
    if (r) return r;
  }
  syncHost(ctx, d.rootsDir, host, vmid);
  const rootDir = rootDirOf(d.rootsDir, host, vmid);
  const ct =
    ctx.store
      .read()
      .hosts.flatMap((h) => h.containers)
      .find((c) => c.vmid === vmid) ?? loc.ct;
  const st = await call.spawn([d.cfg.bwrap, ...bwrapArgs({ rootsDir: d.rootsDir, rootDir, ct, argv: cmd })], {
    PATH: PCT_EXEC_PATH,
    HOME: '/root',
    TERM: 'dumb',
  });
  syncHost(ctx, d.rootsDir, host, vmid);
  return { ...NOTHING, code: st.code ?? 128 + (st.signal === 9 ? 9 : st.signal === 15 ? 15 : 1) };
}

/**
 * `pct push`/`pull` name files of the host: a relative one is the caller's (its cwd), and one
 * under the host's synced paths is in the host's root (where a session sees it), not this machine's.
 */
function hostPaths(d: Daemon, call: Call, host: string, args: string[]): string[] {
  const [sub, vmid, src, dst, ...opts] = args;
  if ((sub !== 'push' && sub !== 'pull') || src === undefined || dst === undefined || src.startsWith('--') || dst.startsWith('--'))
    return args;
  const local = (p: string): string => {
    const abs = isAbsolute(p) ? p : resolve(call.cwd, p);
    if (!HOST_MANAGED.some((m) => abs === m || abs.startsWith(`${m}/`))) return abs;
    return join(ensureHostRoot(d.rootsDir, host), 'fs', abs);
  };
  // A push reads the host's synced files from the lab's model already; only its relative path needs the cwd.
  return sub === 'push'
    ? [sub, vmid ?? '', isAbsolute(src) ? src : resolve(call.cwd, src), dst, ...opts]
    : [sub, vmid ?? '', src, local(dst), ...opts];
}

export const labPct: Handler = async (call, d) => {
  const [host, ...args] = call.args;
  if (!host) return { code: 2, stdout: '', stderr: 'usage: lab-pct <host> [pct args...]\n' };
  const ctx = callContext(d.cfg.labDir, call.signal);
  if (!ctx.store.read().hosts.some((h) => h.name === host)) throw new Error(`lab ${d.cfg.labDir} has no host "${host}"`);
  try {
    if (args[0] === 'exec') {
      const r = await exec(ctx, call, d);
      if (r !== undefined) return r;
    }
    syncHost(ctx, d.rootsDir, host);
    const stdin = args[0] === 'exec' && !call.stdinIsTty ? await call.stdin() : '';
    try {
      const r = await new LabShell(host, ctx).run(['pct', ...hostPaths(d, call, host, args)], { stdin });
      return r;
    } finally {
      syncHost(ctx, d.rootsDir, host);
    }
  } catch (e) {
    if ((e instanceof ShellError && e.unreachable) || e instanceof LabConnectionDropped)
      return { code: 255, stdout: '', stderr: 'Connection to host closed by remote host.\n' };
    throw e;
  }
};
