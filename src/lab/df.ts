/**
 * `df -Pk PATH...` in a container: its root disk (maxdisk) with the use its conditions say
 * (default 31%); every path of a lab container is on it, one line per path as df prints.
 */
import { containerConditions } from './conditions.js';
import { findContainer } from './k3s-model.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runDf(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  if (args[0] !== '-Pk' || args.length < 2) return fail(1, 'df: the lab models only "df -Pk PATH..."\n');
  const s = ctx.store.read();
  const ct = findContainer(s, ref.host, ref.vmid)?.ct;
  const size = Math.floor((ct?.maxdisk ?? 8 * 1024 ** 3) / 1024);
  const pct = containerConditions(s, ref.host, ref.vmid).diskUsedPct ?? 31;
  const used = Math.floor((size * pct) / 100);
  const row = `/dev/mapper/pve-vm--${ref.vmid}--disk--0 ${size} ${used} ${size - used} ${pct}% /\n`;
  return ok(`Filesystem     1024-blocks     Used Available Capacity Mounted on\n${row.repeat(args.length - 1)}`);
}
