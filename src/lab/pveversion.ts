/** `pveversion [-v]` on a lab host, as Proxmox prints it, from the host's packages (policy-state.ts). */
import { hostPve } from './policy-state.js';
import { fail, ok, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function pveversion(ctx: ExecContext, host: string, args: string[]): ExecResult {
  const p = hostPve(ctx.store.read(), host);
  const [major, minor] = p.manager.split('.');
  const hash = major === '9' ? 'b3b4b69cc7a47d84' : '2a5fa54a8503f96d';
  if (args.length === 0) return ok(`pve-manager/${p.manager}/${hash} (running kernel: ${p.kernel})\n`);
  if (args[0] !== '-v' && args[0] !== '--verbose') return fail(255, `Unknown option: ${args[0] ?? ''}\nUSAGE: pveversion [--verbose]\n`);
  return ok(
    [
      `proxmox-ve: ${major ?? '8'}.${minor ?? '0'}.0 (running kernel: ${p.kernel})`,
      `pve-manager: ${p.manager} (running version: ${p.manager}/${hash})`,
      `proxmox-kernel-helper: ${major ?? '8'}.1.1`,
      `proxmox-kernel-${p.kernel}: ${p.kernel.replace('-pve', '')}`,
      'corosync: 3.1.9-pve1',
      `lxc-pve: ${p.lxc}`,
      'lxcfs: 6.0.0-pve2',
      'pve-container: 5.2.6',
      'pve-ha-manager: 4.0.7',
      `zfsutils-linux: ${p.zfs}`,
      '',
    ].join('\n'),
  );
}
