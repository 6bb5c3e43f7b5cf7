/**
 * Runs one program inside a lab container, as `pct exec` (execvp, no shell) or the container's
 * sh would: PATH lookup (pct exec's PATH lacks /usr/local/bin), coreutils, sh, systemctl, curl,
 * and the k3s multi-call binary (k3s, kubectl) once installed.
 */
import { containerConditions } from './conditions.js';
import { coreutil, COREUTILS, type MachineClock } from './coreutils.js';
import { runCurl } from './curl.js';
import { runDf } from './df.js';
import { runStat } from './stat.js';
import { consumeFault } from './faults.js';
import { applyEffect } from './fault-effect.js';
import { runFindmnt } from './findmnt.js';
import { INSTALL_HOOK, runInstaller } from './installer.js';
import { runK3s } from './k3s-binary.js';
import { runKubectl } from './kubectl.js';
import { containerMachine, machineRead, machineTest, machineWrite, type Machine } from './machine.js';
import { runMount } from './mount.js';
import { runShProgram, type ExecResult, type Invocation, type ShHost } from './sh.js';
import { runSqlite3, SQLITE3 } from './sqlite3.js';
import { runSystemctl } from './systemctl.js';
import { runUninstallScript } from './uninstall.js';
import { resolve } from './vfs.js';
import { envArgs, fail, printEnv, type ContainerRef, type ExecContext } from './context.js';
import type { ServiceName } from './types.js';

export const PCT_EXEC_PATH = '/sbin:/bin:/usr/sbin:/usr/bin';

const SYSTEM_DIRS = ['/bin', '/usr/bin', '/sbin', '/usr/sbin'];
/** Programs of the container's base system (found on pct exec's PATH without a file). */
const CONTAINER_PROGRAMS = ['findmnt', 'mount', 'df', 'stat'];
const SYSTEM_PROGRAMS = new Set([...COREUTILS, ...CONTAINER_PROGRAMS, 'sh', 'dash', 'env', 'systemctl', 'curl']);

/** Where a bare name resolves on PATH, or undefined (k3s/kubectl live in /usr/local/bin). */
export function whichInContainer(m: Machine, name: string, path: string): string | undefined {
  if (name === INSTALL_HOOK) return `/usr/lib/pve-k3s-lab/${INSTALL_HOOK}`;
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    if (SYSTEM_DIRS.includes(dir) && SYSTEM_PROGRAMS.has(name)) return `${dir}/${name}`;
    const p = `${dir}/${name}`;
    if (machineTest(m, '-x', p)) return p;
  }
  return undefined;
}

/** One program run in a container: its argv, environment and stdin, and what ran it (`pct exec`'s execvp, or the container's sh). */
export interface ContainerExec {
  argv: string[];
  env: Record<string, string>;
  stdin: string;
  via: 'pct' | 'sh';
}

export async function execInContainer(ctx: ExecContext, ref: ContainerRef, { argv, env, stdin, via }: ContainerExec): Promise<ExecResult> {
  // Only take the lock (and rewrite the state) when there are faults to consider.
  const effect =
    ctx.store.read().faults.length === 0
      ? undefined
      : ctx.store.update((s) => consumeFault(s, { level: 'container', host: ref.host, vmid: ref.vmid, argv }));
  if (effect) {
    const r = await applyEffect(ctx, effect);
    if (r) return r;
  }
  const m = containerMachine(ctx, ref);
  const name = argv[0] ?? '';
  const notFound = (): ExecResult =>
    via === 'pct'
      ? fail(
          127,
          `lxc-attach: ${ref.vmid}: ../src/lxc/attach.c: lxc_attach_run_command: 1841 No such file or directory - Failed to exec "${name}"\n`,
        )
      : fail(127, `sh: 1: ${name}: not found\n`);
  const path = name.includes('/') ? name : whichInContainer(m, name, env.PATH ?? PCT_EXEC_PATH);
  if (path === undefined) return notFound();
  const base = path.split('/').pop() ?? '';
  const args = argv.slice(1);
  const sys = SYSTEM_DIRS.some((d) => path === `${d}/${base}`) && SYSTEM_PROGRAMS.has(base);
  if (path.endsWith(`/${INSTALL_HOOK}`)) return runInstaller(ctx, ref, { env, scriptArgs: args });
  if (sys) {
    switch (base) {
      case 'sh':
      case 'dash':
        return runShProgram(shHostFor(ctx, ref, m), { argv, env, stdin });
      case 'env':
        return envProgram(ctx, ref, { argv: args, env, stdin });
      case 'systemctl':
        return runSystemctl(ctx, ref, args);
      case 'curl':
        return runCurl(ctx, m, args);
      case 'findmnt':
        return runFindmnt(ctx, ref, args);
      case 'mount':
        return runMount(ctx, ref, args);
      case 'df':
        return runDf(ctx, ref, args);
      case 'stat':
        return runStat(ctx, ref, args);
    }
    const util = coreutil(base);
    if (util) return util(args, { stdin, machine: m, clock: containerClock(ctx, ref) });
  }
  const target = resolve(m.fs(), path);
  if (!target.entry) return notFound();
  if (target.path === '/usr/local/bin/k3s') {
    if (base === 'kubectl') return runKubectl(ctx, ref, { argv: args, stdin });
    if (base === 'k3s') return runK3s(ctx, ref, args);
    return fail(1, `${base}: the lab does not model ${base}\n`);
  }
  if (target.path === SQLITE3 && (target.entry.mode & 0o111) !== 0) return runSqlite3(ctx, ref, args);
  const uninstall = /^\/usr\/local\/bin\/(k3s|k3s-agent)-uninstall\.sh$/.exec(target.path);
  if (uninstall && target.entry.content.includes('(lab)') && (target.entry.mode & 0o111) !== 0)
    return runUninstallScript(ctx, ref, uninstall[1] as ServiceName);
  if ((target.entry.mode & 0o111) === 0)
    return fail(
      126,
      via === 'pct' ? `lxc-attach: ${ref.vmid}: Permission denied - Failed to exec "${name}"\n` : `sh: 1: ${name}: Permission denied\n`,
    );
  if (target.entry.content.startsWith('#!/bin/sh') || target.entry.content.startsWith('#!/usr/bin/env sh')) {
    return runShProgram(shHostFor(ctx, ref, m), { argv: ['sh', path, ...args], env, stdin });
  }
  return fail(126, `sh: 1: ${name}: Exec format error\n`);
}

/** The container seen by its sh. */
export function shHostFor(ctx: ExecContext, ref: ContainerRef, m: Machine): ShHost {
  return {
    exec: ({ argv, env, stdin }) => execInContainer(ctx, ref, { argv, env, stdin, via: 'sh' }),
    which: (name, path) => whichInContainer(m, name, path),
    readFile: (p) => machineRead(m, p),
    writeFile: (p, content, append) => machineWrite(m, p, { content, append }),
    fileTest: (op, p) => machineTest(m, op, p),
  };
}

/** `env [NAME=value...] [cmd args...]`: `argv` is env's arguments. */
async function envProgram(ctx: ExecContext, ref: ContainerRef, { argv, env, stdin }: Invocation): Promise<ExecResult> {
  const { env: e, rest } = envArgs(argv, env);
  return rest.length === 0 ? printEnv(e) : execInContainer(ctx, ref, { argv: rest, env: e, stdin, via: 'pct' });
}

/** The container's clock: the lab's, ahead by its clock offset (a `clock-skew` breakage). */
function containerClock(ctx: ExecContext, ref: ContainerRef): MachineClock {
  const offsetMs = () => (containerConditions(ctx.store.read(), ref.host, ref.vmid).clockOffsetS ?? 0) * 1000;
  return { now: () => ctx.now() + offsetMs(), sleep: (ms) => ctx.sleep(ms) };
}
