/** `df -Pk /` in a container: its root disk (maxdisk) with the use its conditions say (default 31%). */
import { containerConditions } from './conditions.js';
import { findContainer } from './k3s-model.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runDf(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  if (args.join(' ') !== '-Pk /') return fail(1, 'df: the lab models only "df -Pk /"\n');
  const s = ctx.store.read();
  const ct = findContainer(s, ref.host, ref.vmid)?.ct;
  const size = Math.floor((ct?.maxdisk ?? 8 * 1024 ** 3) / 1024);
  const pct = containerConditions(s, ref.host, ref.vmid).diskUsedPct ?? 31;
  const used = Math.floor((size * pct) / 100);
  return ok(
    `Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/mapper/pve-vm--${ref.vmid}--disk--0 ${size} ${used} ${size - used} ${pct}% /\n`,
  );
}
