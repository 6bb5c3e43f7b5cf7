/**
 * Runs one program inside a lab container, as `pct exec` (execvp, no shell) or the container's
 * sh would: PATH lookup (pct exec's PATH lacks /usr/local/bin), coreutils, sh, systemctl, curl,
 * and the k3s multi-call binary (k3s, kubectl) once installed.
 */
import { createHash } from 'node:crypto';
import { coreutil, COREUTILS } from './coreutils.js';
import { consumeFault } from './faults.js';
import { runInstaller, waitForStart, JobFailed } from './installer.js';
import { findContainer, serviceStatus, startService, stopService } from './k3s-model.js';
import { runKubectl } from './kubectl.js';
import { containerMachine, machineRead, machineTest, machineWrite, type Machine } from './machine.js';
import { runShProgram, type ExecResult, type ShHost } from './sh.js';
import { resolve } from './vfs.js';
import { envArgs, fail, ok, printEnv, type ContainerRef, type ExecContext } from './context.js';
import { applyEffect } from './fault-effect.js';
import type { ServiceName } from './types.js';
import { containerMaintenance, k3sMaintenance, MAINTENANCE_PROGRAMS, onServerStop } from './maintenance.js';
import { runUninstallScript } from './provision.js';

export const PCT_EXEC_PATH = '/sbin:/bin:/usr/sbin:/usr/bin';
const INSTALL_HOOK = '__pve_k3s_lab_install';

/** What `curl <installScriptUrl>` returns: a script whose one command is the simulated installer. */
export const INSTALL_SCRIPT = `#!/bin/sh
# The k3s install script as simulated by the pve-k3s lab (behaviour modelled in src/lab/installer.ts).
set -e
${INSTALL_HOOK} "$@"
`;

const SYSTEM_DIRS = ['/bin', '/usr/bin', '/sbin', '/usr/sbin'];
const SYSTEM_PROGRAMS = new Set([...COREUTILS, ...MAINTENANCE_PROGRAMS, 'sh', 'dash', 'env', 'systemctl', 'curl']);

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

export async function execInContainer(
  ctx: ExecContext,
  ref: ContainerRef,
  argv: string[],
  env: Record<string, string>,
  stdin: string,
  via: 'pct' | 'sh',
): Promise<ExecResult> {
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
  if (path.endsWith(`/${INSTALL_HOOK}`)) return runInstaller(ctx, ref, env, args);
  const maint = containerMaintenance(ctx, ref, path, args, stdin);
  if (maint) return maint;
  if (sys) {
    if (base === 'sh' || base === 'dash') return runShProgram(argv, env, stdin, shHostFor(ctx, ref, m));
    if (base === 'env') return envProgram(ctx, ref, args, env, stdin);
    if (base === 'systemctl') return systemctl(ctx, ref, args);
    if (base === 'curl') return curl(ctx, m, args);
    const util = coreutil(base);
    if (util) return util(args, stdin, m, ctx.sleep);
  }
  const target = resolve(m.fs(), path);
  if (!target.entry) return notFound();
  if (target.path === '/usr/local/bin/k3s') {
    if (base === 'kubectl') return runKubectl(ctx, ref, args);
    if (base === 'k3s') return k3sBinary(ctx, ref, m, args);
    return fail(1, `${base}: the lab does not model ${base}\n`);
  }
  const uninstall = /^\/usr\/local\/bin\/(k3s|k3s-agent)-uninstall\.sh$/.exec(target.path);
  if (uninstall && target.entry.content.includes('(lab)') && (target.entry.mode & 0o111) !== 0)
    return runUninstallScript(ctx, ref, uninstall[1] as ServiceName);
  if ((target.entry.mode & 0o111) === 0)
    return fail(
      126,
      via === 'pct' ? `lxc-attach: ${ref.vmid}: Permission denied - Failed to exec "${name}"\n` : `sh: 1: ${name}: Permission denied\n`,
    );
  if (target.entry.content.startsWith('#!/bin/sh') || target.entry.content.startsWith('#!/usr/bin/env sh')) {
    return runShProgram(['sh', path, ...args], env, stdin, shHostFor(ctx, ref, m));
  }
  return fail(126, `sh: 1: ${name}: Exec format error\n`);
}

/** The container seen by its sh. */
export function shHostFor(ctx: ExecContext, ref: ContainerRef, m: Machine): ShHost {
  return {
    exec: (argv, env, stdin) => execInContainer(ctx, ref, argv, env, stdin, 'sh'),
    which: (name, path) => whichInContainer(m, name, path),
    readFile: (p) => machineRead(m, p),
    writeFile: (p, c, append) => machineWrite(m, p, c, append),
    fileTest: (op, p) => machineTest(m, op, p),
  };
}

async function envProgram(
  ctx: ExecContext,
  ref: ContainerRef,
  args: string[],
  env: Record<string, string>,
  stdin: string,
): Promise<ExecResult> {
  const { env: e, rest } = envArgs(args, env);
  return rest.length === 0 ? printEnv(e) : execInContainer(ctx, ref, rest, e, stdin, 'pct');
}

const GO_BY_MINOR: Record<number, string> = { 30: 'go1.22.12', 31: 'go1.23.12', 32: 'go1.23.12', 33: 'go1.24.6', 34: 'go1.24.6' };

function k3sBinary(ctx: ExecContext, ref: ContainerRef, m: Machine, args: string[]): Promise<ExecResult> | ExecResult {
  const s = ctx.store.read();
  const version = findContainer(s, ref.host, ref.vmid)?.ct.k3s.binaryVersion ?? '';
  if (args[0] === '--version' || args[0] === '-v' || args[0] === 'version') {
    const commit = createHash('sha1').update(version).digest('hex').slice(0, 8);
    const minor = Number(/^v1\.(\d+)\./.exec(version)?.[1] ?? 0);
    return ok(`k3s version ${version} (${commit})\ngo version ${GO_BY_MINOR[minor] ?? 'go1.24.6'}\n`);
  }
  if (args[0] === 'kubectl') return runKubectl(ctx, ref, args.slice(1));
  const maint = k3sMaintenance(ctx, ref, args);
  if (maint) return maint;
  void m;
  return fail(1, `k3s: the lab does not model "k3s ${args.join(' ')}"\n`);
}

function unitName(u: string): string {
  return u.replace(/\.service$/, '');
}

async function systemctl(ctx: ExecContext, ref: ContainerRef, args: string[]): Promise<ExecResult> {
  const [verb, ...rest] = args.filter((a) => a !== '--no-pager' && a !== '-q' && a !== '--quiet');
  const quiet = args.includes('-q') || args.includes('--quiet');
  const units = rest.map(unitName);
  const known = (u: string): u is ServiceName => u === 'k3s' || u === 'k3s-agent';
  const now = ctx.now();
  switch (verb) {
    case 'is-active': {
      const s = ctx.store.read();
      const ct = findContainer(s, ref.host, ref.vmid)?.ct;
      const states = units.map((u) => (ct && known(u) ? serviceStatus(s, ct, ct.k3s.services[u], now) : 'inactive'));
      return { code: states.every((x) => x === 'active') ? 0 : 3, stdout: quiet ? '' : states.map((x) => `${x}\n`).join(''), stderr: '' };
    }
    case 'is-enabled': {
      const ct = findContainer(ctx.store.read(), ref.host, ref.vmid)?.ct;
      const u = units[0] ?? '';
      const svc = ct && known(u) ? ct.k3s.services[u] : undefined;
      if (!svc) return fail(1, `Failed to get unit file state for ${u}.service: No such file or directory\n`);
      return { code: svc.enabled ? 0 : 1, stdout: svc.enabled ? 'enabled\n' : 'disabled\n', stderr: '' };
    }
    case 'daemon-reload':
      return ok();
    case 'start':
    case 'restart':
    case 'stop':
    case 'enable':
    case 'disable': {
      const u = units[0] ?? '';
      const r = ctx.store.update((s) => {
        const loc = findContainer(s, ref.host, ref.vmid);
        const svc = loc && known(u) ? loc.ct.k3s.services[u] : undefined;
        if (!loc || !svc || !known(u)) return 'missing';
        if (verb === 'enable' || verb === 'disable') {
          svc.enabled = verb === 'enable';
          return 'done';
        }
        if (verb === 'stop') {
          if (u === 'k3s' && svc.running) onServerStop(s, loc.ct);
          stopService(loc.ct, u);
          return 'done';
        }
        if (verb === 'start' && svc.running && svc.failure === undefined) return 'done';
        startService(s, loc, u, now);
        return 'started';
      });
      if (
        r === 'missing' &&
        (verb === 'enable' || verb === 'disable') &&
        machineTest(containerMachine(ctx, ref), '-f', `/etc/systemd/system/${u}.service`)
      ) {
        // A unit of our own (not k3s): enabling it only links it into multi-user.target.wants.
        return ok(
          verb === 'enable'
            ? `Created symlink /etc/systemd/system/multi-user.target.wants/${u}.service → /etc/systemd/system/${u}.service.\n`
            : '',
        );
      }
      if (r === 'missing')
        return fail(verb === 'enable' || verb === 'disable' ? 1 : 5, `Failed to ${verb} ${u}.service: Unit ${u}.service not found.\n`);
      if (r === 'started') {
        try {
          await waitForStart(ctx, ref, u as ServiceName, now);
        } catch (e) {
          if (e instanceof JobFailed) return fail(1, e.message);
          throw e;
        }
      }
      return ok();
    }
    case 'status': {
      const s = ctx.store.read();
      const ct = findContainer(s, ref.host, ref.vmid)?.ct;
      const u = units[0] ?? '';
      const svc = ct && known(u) ? ct.k3s.services[u] : undefined;
      if (!ct || !svc) return fail(4, `Unit ${u}.service could not be found.\n`);
      const st = serviceStatus(s, ct, svc, now);
      const text = `● ${u}.service - Lightweight Kubernetes\n     Loaded: loaded (/etc/systemd/system/${u}.service; ${svc.enabled ? 'enabled' : 'disabled'}; preset: enabled)\n     Active: ${st}${st === 'active' ? ' (running)' : ''}\n`;
      return { code: st === 'active' ? 0 : 3, stdout: text, stderr: '' };
    }
    default:
      return fail(1, `systemctl: the lab does not model "systemctl ${args.join(' ')}"\n`);
  }
}

async function curl(ctx: ExecContext, m: Machine, args: string[]): Promise<ExecResult> {
  let silent = false;
  let showError = false;
  let failOnHttp = false;
  let output: string | undefined;
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-o' || a === '--output') {
      output = args[++i];
      continue;
    }
    if (a === '--silent') {
      silent = true;
      continue;
    }
    if (a === '--fail') {
      failOnHttp = true;
      continue;
    }
    if (a === '--show-error') {
      showError = true;
      continue;
    }
    if (a === '--location' || a === '--insecure') continue;
    if (/^-[sSfLko]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 's') silent = true;
        else if (f === 'S') showError = true;
        else if (f === 'f') failOnHttp = true;
        else if (f === 'o') output = args[++i];
      }
      continue;
    }
    if (a.startsWith('-')) return fail(2, `curl: option ${a}: the lab does not model it\n`);
    urls.push(a);
  }
  const url = urls[0];
  if (url === undefined) return fail(2, 'curl: no URL specified!\n');
  const say = (code: number, msg: string) => fail(code, !silent || showError ? `curl: (${code}) ${msg}\n` : '');
  const s = ctx.store.read();
  let body: string | undefined;
  if (url.startsWith('file://')) {
    const f = machineRead(m, url.slice('file://'.length));
    if ('error' in f) return say(37, `Couldn't open file ${url.slice('file://'.length)}`);
    body = f.content;
  } else if (url.replace(/\/$/, '') === s.installScriptUrl.replace(/\/$/, '')) body = INSTALL_SCRIPT;
  else if (/^https:\/\/update\.k3s\.io\/v1-release\/channels\/?$/.test(url)) body = JSON.stringify(s.channels);
  const host = /^https?:\/\/([^/:]+)/.exec(url)?.[1];
  if (body === undefined) {
    if (host === undefined) return say(3, 'URL rejected: Malformed input to a URL function');
    if (!['get.k3s.io', 'update.k3s.io', 'github.com', new URL(s.installScriptUrl).hostname].includes(host))
      return say(6, `Could not resolve host: ${host}`);
    if (failOnHttp) return say(22, 'The requested URL returned error: 404');
    body = '404: Not Found';
  }
  if (output !== undefined && output !== '-') {
    const e = machineWrite(m, output, body, false);
    if (e !== undefined) return say(23, 'Failure writing output to destination');
    return ok();
  }
  return ok(body);
}
