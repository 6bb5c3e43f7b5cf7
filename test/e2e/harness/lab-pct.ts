#!/usr/bin/env node
/**
 * `pct` on an e2e Proxmox host whose containers are real roots: `node lab-pct.js <rootsDir>
 * <host> <pct args...>`. `pct exec <vmid> [--] <cmd...>` runs cmd for real in the container's
 * root (ct-sandbox.ts), with the environment pct exec gives (PATH=/sbin:/bin:/usr/sbin:/usr/bin,
 * HOME, TERM), stdin, stdout and stderr passed straight through and cmd's exit status, as
 * pve-container's `pct exec` does (`lxc-attach -n <vmid> -- <extra-args>`: "container '<vmid>'
 * not running!" and "missing command" are pct's own errors, exit 255). Every other subcommand
 * (list, config, push, pull, snapshot, rollback, start, stop, set...) is the lab model's pct,
 * with the host's container roots synced before and after (a push lands in the root at once).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openLab, type Lab } from '../../../src/lab/lab.js';
import { findContainer } from '../../../src/lab/k3s-model.js';
import { argvVmid, consumeFault } from '../../../src/lab/faults.js';
import { applyEffect, LabConnectionDropped } from '../../../src/lab/fault-effect.js';
import { PCT_EXEC_PATH } from '../../../src/lab/container-exec.js';
import { ShellError } from '../../../src/domain/errors.js';
import { syncRoot } from './ct-root.js';
import { bwrapArgs, ensureRoot, rootDirOf, rootsConfig } from './ct-sandbox.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const c of process.stdin) text += (c as Buffer).toString('utf8');
  return text;
}

/** Syncs every container of `host` that has a root (or, with `vmid`, that one, making its root). */
function syncHost(lab: Lab, rootsDir: string, host: string, vmid?: number): void {
  if (vmid !== undefined) {
    const loc = findContainer(lab.state, host, vmid);
    if (loc) ensureRoot(rootsDir, host, loc.ct);
  }
  lab.update((s) => {
    for (const ct of s.hosts.find((h) => h.name === host)?.containers ?? []) {
      if (vmid !== undefined && ct.vmid !== vmid) continue;
      const dir = rootDirOf(rootsDir, host, ct.vmid);
      if (existsSync(join(dir, 'ref'))) syncRoot(dir, ct.fs);
    }
  });
}

function run(bwrap: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(bwrap, args, { env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1)));
  });
}

async function exec(lab: Lab, rootsDir: string, host: string, args: string[]): Promise<number | undefined> {
  const [, vmidText, ...rest] = args;
  if (vmidText === undefined || !/^\d+$/.test(vmidText)) return undefined;
  const vmid = Number(vmidText);
  const sep = rest.indexOf('--');
  const cmd = sep >= 0 ? rest.slice(sep + 1) : rest;
  const s = lab.state;
  const loc = findContainer(s, host, vmid);
  // pct's own refusals (no such CT, not running, no command) come from the model's pct.
  if (!loc || loc.ct.status !== 'running' || cmd.length === 0) return undefined;
  // Faults on the host command fire as the in-process lab fires them (src/lab/lab-shell.ts).
  const ctx = lab.context();
  const argv = ['pct', ...args];
  const effect =
    s.faults.length === 0 ? undefined : lab.update((st) => consumeFault(st, { level: 'host', host, vmid: argvVmid(argv), argv }));
  if (effect) {
    const r = await applyEffect(ctx, effect);
    if (r) {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code;
    }
  }
  const cfg = rootsConfig(rootsDir);
  syncHost(lab, rootsDir, host, vmid);
  const rootDir = rootDirOf(rootsDir, host, vmid);
  const code = await run(
    cfg.bwrap,
    bwrapArgs(cfg, rootDir, lab.state.hosts.flatMap((h) => h.containers).find((c) => c.vmid === vmid) ?? loc.ct, cmd),
    { PATH: PCT_EXEC_PATH, HOME: '/root', TERM: 'dumb' },
  );
  syncHost(lab, rootsDir, host, vmid);
  return code;
}

async function main(argv: string[]): Promise<number> {
  const [rootsDir, host, ...args] = argv;
  if (!rootsDir || !host) {
    process.stderr.write('usage: lab-pct <rootsDir> <host> [pct args...]\n');
    return 2;
  }
  const lab = await openLab(rootsConfig(rootsDir).labDir, { realHostFs: true });
  if (args[0] === 'exec') {
    const code = await exec(lab, rootsDir, host, args);
    if (code !== undefined) return code;
  }
  syncHost(lab, rootsDir, host);
  const stdin = args[0] === 'exec' ? await readStdin() : '';
  try {
    const r = await lab.shell(host).run(['pct', ...args], { stdin });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    if ((e instanceof ShellError && e.unreachable) || e instanceof LabConnectionDropped) {
      process.stderr.write('Connection to host closed by remote host.\n');
      return 255;
    }
    throw e;
  } finally {
    syncHost(lab, rootsDir, host);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof LabConnectionDropped) {
      process.stderr.write('Connection to host closed by remote host.\n');
      process.exitCode = 255;
      return;
    }
    process.stderr.write(`pve-k3s e2e pct: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 255;
  },
);
