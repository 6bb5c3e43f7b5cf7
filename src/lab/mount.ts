/** `mount --make-rshared /` in a container: `/` becomes shared (what k3s needs in LXC). */
import { containerConditionsOf } from './conditions.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runMount(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  if (args.join(' ') !== '--make-rshared /') return fail(32, 'mount: the lab models only "mount --make-rshared /"\n');
  ctx.store.update((s) => {
    containerConditionsOf(s, ref.host, ref.vmid).rootPropagation = 'shared';
  });
  return ok();
}
