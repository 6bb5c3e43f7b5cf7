/**
 * A command on a lab Proxmox host, as sshd would run it: argv straight (Shell.run) or through
 * the host's sh. Programs: pct, pvesh, sh, env, systemctl (host-systemd.ts) and the coreutils.
 */
import { coreutil, COREUTILS } from './coreutils.js';
import { hostMachine, machineRead, machineTest, machineWrite, type Machine } from './machine.js';
import { runPct } from './pct.js';
import { runPvesh } from './pvesh.js';
import { runModprobe } from './modprobe.js';
import { runVzdump } from './vzdump.js';
import { runHostSystemctl } from './host-systemd.js';
import { pveversion } from './pveversion.js';
import { runShProgram, type ExecResult, type Invocation, type ShHost } from './sh.js';
import { envArgs, fail, printEnv, type ExecContext } from './context.js';

export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PROGRAMS: Record<string, string> = {
  pct: '/usr/sbin/pct',
  pvesh: '/usr/bin/pvesh',
  sh: '/bin/sh',
  dash: '/bin/dash',
  env: '/usr/bin/env',
  modprobe: '/usr/sbin/modprobe',
  vzdump: '/usr/bin/vzdump',
  systemctl: '/usr/bin/systemctl',
  pveversion: '/usr/bin/pveversion',
};
const location = (name: string): string | undefined => PROGRAMS[name] ?? (COREUTILS.includes(name) ? `/usr/bin/${name}` : undefined);

export function whichOnHost(name: string, path: string): string | undefined {
  const loc = location(name);
  if (loc === undefined) return undefined;
  const dir = loc.slice(0, loc.lastIndexOf('/'));
  const dirs = path.split(':');
  // /bin and /usr/bin are one directory on a merged-/usr Debian.
  return dirs.includes(dir) || dirs.includes(dir.replace(/^\/usr/, '')) || dirs.includes(`/usr${dir}`) ? loc : undefined;
}

export async function execOnHost(ctx: ExecContext, host: string, { argv, env, stdin }: Invocation): Promise<ExecResult> {
  const name = argv[0] ?? '';
  const base = name.includes('/') ? (name.split('/').pop() ?? '') : name;
  const loc = location(base);
  const found = name.includes('/') ? loc === name || `/usr${name}` === loc : whichOnHost(name, env.PATH ?? HOST_PATH) !== undefined;
  if (!found) return fail(127, `sh: 1: ${name}: not found\n`);
  const args = argv.slice(1);
  const m = hostMachine(ctx, host);
  switch (base) {
    case 'pct':
      return runPct(ctx, host, { args, stdin });
    case 'pvesh':
      return runPvesh(ctx, args);
    case 'pveversion':
      return pveversion(ctx, host, args);
    case 'modprobe':
      return runModprobe(ctx, host, args);
    case 'vzdump':
      return runVzdump(ctx, host, args);
    case 'systemctl':
      return runHostSystemctl(ctx, host, args);
    case 'sh':
    case 'dash':
      return runShProgram(hostShHost(ctx, host, m), { argv, env, stdin });
    case 'env': {
      const { env: e, rest } = envArgs(args, env);
      return rest.length === 0 ? printEnv(e) : execOnHost(ctx, host, { argv: rest, env: e, stdin });
    }
    default: {
      const util = coreutil(base);
      return util ? util(args, { stdin, machine: m, clock: ctx }) : fail(127, `sh: 1: ${name}: not found\n`);
    }
  }
}

export function hostShHost(ctx: ExecContext, host: string, m: Machine): ShHost {
  return {
    exec: ({ argv, env, stdin }) => execOnHost(ctx, host, { argv, env, stdin }),
    which: (name, path) => whichOnHost(name, path),
    readFile: (p) => machineRead(m, p),
    writeFile: (p, content, append) => machineWrite(m, p, { content, append }),
    fileTest: (op, p) => machineTest(m, op, p),
  };
}

export const HOST_ENV = { PATH: HOST_PATH, HOME: '/root', SHELL: '/bin/sh', LANG: 'C.UTF-8' };
