/**
 * Proxmox hosts for end-to-end tests where every script runs in a real sh: one real sshd per
 * lab host (sshd.ts) whose sessions find `sh` (dash or busybox sh), `pct` (lab-pct.ts: real
 * container roots, ct-sandbox.ts) and `pvesh` (the lab's, lab-shim.ts) first on PATH. Host
 * scripts run in that sh on this machine; container scripts run in that sh in the container's
 * own root, where kubectl, k3s, systemctl, curl and sqlite3 are the lab model's programs.
 * Sessions, `pct`, `pvesh` and those programs are all the harness's Perl client, served by one
 * daemon process per set of hosts (daemon.ts) that holds the lab's code loaded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../../../src/lab/index.js';
import { makeBinFarms, type RealShell, type RootsConfig } from './ct-sandbox.js';
import { startDaemon, type DaemonProcess } from './daemon-process.js';
import { isCi, sshdSkipReason, startSshd, type SshdHarness } from './sshd.js';

export type { RealShell } from './ct-sandbox.js';
export const REAL_SHELLS: readonly RealShell[] = ['dash', 'busybox'];

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function which(program: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Why real-sh e2e tests cannot run here, or undefined when they can. Under CI always
 * undefined: a missing program must fail the tests (startRealShHosts throws), never skip them.
 */
export function realShSkipReason(
  env: NodeJS.ProcessEnv = process.env,
  has: (program: string) => boolean = (p) => which(p) !== undefined,
  bwrapWorks: () => boolean = () => spawnSync('bwrap', ['--ro-bind', '/', '/', 'true']).status === 0,
): string | undefined {
  if (isCi(env)) return undefined;
  const ssh = sshdSkipReason(env);
  if (ssh !== undefined) return ssh;
  for (const [p, pkg] of [
    ['bwrap', 'bubblewrap'],
    ['dash', 'dash'],
    ['busybox', 'busybox'],
  ] as const) {
    if (!has(p)) return `${p} is not installed: \`apt-get install ${pkg}\` to run the real-sh e2e tests`;
  }
  if (!bwrapWorks()) return 'bubblewrap cannot create a mount namespace here (run as root, or allow unprivileged user namespaces)';
  return undefined;
}

export interface RealShHosts {
  shell: RealShell;
  /** The sshd of each lab host, by host name. */
  sshd: Record<string, SshdHarness>;
  /** The container roots (one directory per container, `<host>-<vmid>`). */
  rootsDir: string;
  /** `hosts:` lines for an inventory: `  pve1: { ssh: ..., sshConfig: ... }`. */
  inventoryHosts(): string[];
  stop(): Promise<void>;
}

/** Starts one sshd per host of `lab`, with `sh` = `shell` and container roots entered by `pct exec`. */
export async function startRealShHosts(lab: Lab, shell: RealShell): Promise<RealShHosts> {
  const bwrap = which('bwrap');
  if (bwrap === undefined)
    throw new Error('bwrap not found: install bubblewrap (the real-sh e2e tests need it; under CI they fail rather than skip)');
  const sh = which(shell);
  if (sh === undefined) throw new Error(`${shell} not found: install it (apt-get install ${shell})`);
  const rootsDir = mkdtempSync(join(tmpdir(), 'pve-k3s-roots-'));
  const cfg: RootsConfig = { labDir: lab.dir, shell, bwrap };
  writeFileSync(join(rootsDir, 'config.json'), JSON.stringify(cfg));
  makeBinFarms(rootsDir, shell);
  const sshd: Record<string, SshdHarness> = {};
  let daemon: DaemonProcess | undefined;
  try {
    daemon = await startDaemon(rootsDir);
    for (const host of lab.hosts()) {
      // Every session's command runs in the shell under test, in the host's own root (host-sh.ts).
      const h = await startSshd({ alias: `${host}-realsh`, forceCommand: daemon.call('host-sh', host) });
      sshd[host] = h;
      h.addProgram('sh', shell === 'dash' ? `exec ${q(sh)} "$@"` : `exec ${q(sh)} sh "$@"`);
      h.addProgram('pct', `exec ${daemon.call('pct', host)} "$@"`);
      h.addProgram('pvesh', `exec ${daemon.call('shim', host, 'pvesh')} "$@"`);
    }
  } catch (e) {
    for (const h of Object.values(sshd)) await h.stop();
    await daemon?.stop();
    rmSync(rootsDir, { recursive: true, force: true });
    throw e;
  }
  const running = daemon;
  return {
    shell,
    sshd,
    rootsDir,
    inventoryHosts: () => Object.entries(sshd).map(([host, h]) => `  ${host}: { ssh: ${h.alias}, sshConfig: ${h.configFile} }`),
    async stop() {
      for (const h of Object.values(sshd)) await h.stop();
      await running.stop();
      rmSync(rootsDir, { recursive: true, force: true });
    },
  };
}
