/**
 * `pct` on a lab host: list/status/config/start/stop/reboot/exec/snapshots/push/pull with
 * Proxmox's output formats and its exit status 255 for its own errors.
 */
import * as realFs from 'node:fs';
import { LAB_HOOKS } from './hooks.js';
import { bootContainer, findContainer, shutdownContainer } from './k3s-model.js';
import { execInContainer, PCT_EXEC_PATH } from './container-exec.js';
import { renderSnapshotTree } from './snapshots.js';
import { pctCreate, pctSet } from './pct-create.js';
import { dirname, isDir, readFile, writeFile } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ContainerState, LabState } from './types.js';

const USAGE = 'USAGE: pct <COMMAND> [ARGS] [OPTIONS]\n';

export async function runPct(ctx: ExecContext, host: string, { args, stdin }: { args: string[]; stdin: string }): Promise<ExecResult> {
  const [sub, vmidText, ...rest] = args;
  if (sub === undefined) return fail(255, `ERROR: no command specified\n${USAGE}`);
  if (sub === 'list') return ok(pctList(ctx.store.read(), host));
  if (sub === 'create') return pctCreate(ctx, host, args.slice(1));
  const simple = [
    'status',
    'config',
    'start',
    'stop',
    'shutdown',
    'reboot',
    'exec',
    'listsnapshot',
    'snapshot',
    'rollback',
    'delsnapshot',
    'push',
    'pull',
    'set',
  ];
  if (!simple.includes(sub)) return fail(255, `ERROR: unknown command 'pct ${sub}'\n${USAGE}`);
  if (vmidText === undefined) return fail(255, `400 not enough arguments\npct ${sub} <vmid>\n`);
  if (!/^\d+$/.test(vmidText))
    return fail(255, `400 Parameter verification failed.\nvmid: type check ('integer') failed - got '${vmidText}'\npct ${sub} <vmid>\n`);
  const vmid = Number(vmidText);
  const s = ctx.store.read();
  const loc = findContainer(s, host, vmid);
  if (!loc) return fail(255, `Configuration file 'nodes/${host}/lxc/${vmid}.conf' does not exist\n`);
  const notRunning = fail(255, `container '${vmid}' not running!\n`);
  switch (sub) {
    case 'status':
      return ok(`status: ${loc.ct.status}\n`);
    case 'config':
      return ok(loc.ct.config.map(([k, v]) => `${k}: ${v}\n`).join(''));
    case 'listsnapshot':
      return ok(renderSnapshotTree(loc.ct));
    case 'exec': {
      const sep = rest.indexOf('--');
      const argv = sep >= 0 ? rest.slice(sep + 1) : rest;
      if (argv.length === 0) return fail(255, 'missing command\n');
      if (loc.ct.status !== 'running') return notRunning;
      await ctx.sleep(s.timing.pctExecMs);
      return pctExecStarted(ctx, { host, vmid }, { argv, stdin });
    }
    case 'push':
    case 'pull':
      return pushPull(ctx, { host, vmid }, { sub, rest });
    case 'set':
      return pctSet(ctx, { host, vmid }, rest);
    default:
      return lifecycle(ctx, { host, vmid }, { sub, rest });
  }
}

/** What `pct exec` runs once pct has started (its latency paid): argv in the container, with pct's environment. */
export function pctExecStarted(
  ctx: ExecContext,
  ref: ContainerRef,
  { argv, stdin }: { argv: string[]; stdin: string },
): Promise<ExecResult> {
  return execInContainer(ctx, ref, { argv, env: { PATH: PCT_EXEC_PATH, HOME: '/root', TERM: 'dumb' }, stdin, via: 'pct' });
}

export function pctList(s: LabState, host: string): string {
  const cts = [...(s.hosts.find((h) => h.name === host)?.containers ?? [])].sort((a, b) => a.vmid - b.vmid);
  if (cts.length === 0) return '';
  const row = ([a, b, c, d]: [string, string, string, string]) => `${a.padEnd(10)} ${b.padEnd(10)} ${c.padEnd(12)} ${d.padEnd(20)}\n`;
  return row(['VMID', 'Status', 'Lock', 'Name']) + cts.map((c) => row([String(c.vmid), c.status, c.lock, c.hostname])).join('');
}

/** A pct subcommand on one container: its name and the arguments after the vmid. */
interface PctCall<Sub extends string = string> {
  sub: Sub;
  rest: string[];
}

function lifecycle(ctx: ExecContext, { host, vmid }: ContainerRef, { sub, rest }: PctCall): ExecResult {
  const now = ctx.now();
  const r = ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, host, vmid);
    if (!loc) return fail(255, `Configuration file 'nodes/${host}/lxc/${vmid}.conf' does not exist\n`);
    const { ct } = loc;
    if (ct.lock !== '' && sub !== 'listsnapshot') return fail(255, `CT is locked (${ct.lock})\n`);
    switch (sub) {
      case 'start':
        if (ct.status === 'running') return fail(255, `CT ${vmid} already running\n`);
        bootContainer(s, loc, { now, hooks: LAB_HOOKS });
        return ok();
      case 'stop':
      case 'shutdown':
        if (ct.status !== 'running') return fail(255, `CT ${vmid} not running\n`);
        shutdownContainer(ct);
        return ok();
      case 'reboot':
        if (ct.status !== 'running') return fail(255, `CT ${vmid} not running\n`);
        shutdownContainer(ct);
        bootContainer(s, loc, { now, hooks: LAB_HOOKS });
        return ok();
      case 'snapshot':
        return snapshot(ct, rest, now);
      case 'rollback': {
        const name = rest[0] ?? '';
        const snap = ct.snapshots.find((x) => x.name === name);
        if (!snap) return fail(255, `snapshot '${name}' does not exist\n`);
        shutdownContainer(ct);
        ct.config = structuredClone(snap.config).filter(([k]) => k !== 'parent');
        ct.config.push(['parent', name]);
        ct.fs = structuredClone(snap.fs);
        ct.k3s = structuredClone(snap.k3s);
        for (const svc of Object.values(ct.k3s.services)) svc.running = false;
        if (rest.includes('--start') || rest.includes('--start=1')) bootContainer(s, loc, { now, hooks: LAB_HOOKS });
        return ok();
      }
      case 'delsnapshot': {
        const name = rest[0] ?? '';
        const i = ct.snapshots.findIndex((x) => x.name === name);
        if (i < 0) return fail(255, `snapshot '${name}' does not exist\n`);
        const parent = ct.snapshots[i]?.parent;
        ct.snapshots.splice(i, 1);
        for (const x of ct.snapshots) if (x.parent === name) x.parent = parent;
        ct.config = ct.config.filter(([k, v]) => !(k === 'parent' && v === name));
        if (parent !== undefined && !ct.config.some(([k]) => k === 'parent') && ct.snapshots.length > 0) ct.config.push(['parent', parent]);
        return ok();
      }
      default:
        return fail(255, `ERROR: unknown command 'pct ${sub}'\n${USAGE}`);
    }
  });
  return r;
}

function snapshot(ct: ContainerState, rest: string[], now: number): ExecResult {
  const name = rest[0] ?? '';
  if (!/^[a-zA-Z][a-zA-Z0-9_-]+$/.test(name))
    return fail(255, `400 Parameter verification failed.\nsnapname: invalid format - invalid configuration ID '${name}'\n`);
  if (ct.switches.snapshotsUnsupported) return fail(255, 'snapshot feature is not available\n');
  if (ct.snapshots.some((x) => x.name === name)) return fail(255, `snapshot name '${name}' already used\n`);
  const di = rest.indexOf('--description');
  const description = di >= 0 ? (rest[di + 1] ?? '') : (rest.find((a) => a.startsWith('--description='))?.slice(14) ?? '');
  const parent = ct.config.find(([k]) => k === 'parent')?.[1];
  ct.snapshots.push({
    name,
    description,
    snaptime: Math.floor(now / 1000),
    parent,
    config: structuredClone(ct.config).filter(([k]) => k !== 'parent'),
    fs: structuredClone(ct.fs),
    k3s: structuredClone(ct.k3s),
  });
  ct.config = ct.config.filter(([k]) => k !== 'parent');
  ct.config.push(['parent', name]);
  return ok();
}

function pushPull(ctx: ExecContext, { host, vmid }: ContainerRef, { sub, rest }: PctCall<'push' | 'pull'>): ExecResult {
  const [src, dst] = rest.filter((a, i) => !a.startsWith('--') && !(i > 0 && (rest[i - 1] ?? '').startsWith('--')));
  if (src === undefined || dst === undefined) return fail(255, `400 not enough arguments\npct ${sub} <vmid> <file> <destination>\n`);
  const pi = rest.indexOf('--perms');
  const perms = pi >= 0 ? parseInt(rest[pi + 1] ?? '644', 8) : undefined;
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, host, vmid);
    const h = s.hosts.find((x) => x.name === host);
    if (!loc || !h) return fail(255, `Configuration file 'nodes/${host}/lxc/${vmid}.conf' does not exist\n`);
    if (loc.ct.status !== 'running') return fail(255, `container '${vmid}' not running!\n`);
    if (sub === 'push') {
      let content: string | undefined;
      const v = readFile(h.fs, src);
      if ('content' in v) content = v.content;
      else if (ctx.realHostFs) content = realFs.existsSync(src) ? realFs.readFileSync(src, 'utf8') : undefined;
      if (content === undefined) return fail(255, `can't open '${src}' - No such file or directory\n`);
      // Like the real one, a missing target directory fails quietly with status 0: callers must check.
      if (!isDir(loc.ct.fs, dirname(dst))) return ok();
      writeFile(loc.ct.fs, dst, { content, mode: perms ?? 0o644 });
      return ok();
    }
    const v = readFile(loc.ct.fs, src);
    if ('error' in v) return fail(255, `failed to open ${src} for reading\n`);
    if (ctx.realHostFs) realFs.writeFileSync(dst, v.content);
    else if (writeFile(h.fs, dst, { content: v.content, mode: perms ?? 0o644 })) return fail(255, `can't open '${dst}' for writing\n`);
    return ok();
  });
}
