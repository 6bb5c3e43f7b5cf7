import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initLab, type Lab, type LabInitOptions } from '../../src/lab/index.js';

export const FAST = { installMs: 5, restartMs: 60, drainPerPodMs: 1, pctExecMs: 0, sshRttMs: 0 };

export async function makeLab(opts: Partial<LabInitOptions> = {}): Promise<Lab> {
  const dir = join(mkdtempSync(join(tmpdir(), 'pve-k3s-lab-')), 'lab');
  return initLab({ dir, timing: FAST, ...opts });
}

/** Runs `pct exec <vmid> -- argv` on the host holding vmid. */
export async function inCt(lab: Lab, vmid: number, argv: string[], stdin?: string) {
  const host = lab.state.hosts.find((h) => h.containers.some((c) => c.vmid === vmid))?.name ?? 'pve1';
  return lab.shell(host).run(['pct', 'exec', String(vmid), '--', ...argv], stdin === undefined ? {} : { stdin });
}

export const kubectl = (lab: Lab, ...args: string[]) => inCt(lab, 100, ['/usr/local/bin/kubectl', ...args]);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
