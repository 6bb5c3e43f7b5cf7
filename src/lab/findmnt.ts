/** `findmnt -no PROPAGATION /` in a container: `shared` unless its conditions say otherwise. */
import { containerConditions } from './conditions.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runFindmnt(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const prop = containerConditions(ctx.store.read(), ref.host, ref.vmid).rootPropagation ?? 'shared';
  if (args.join(' ') === '-no PROPAGATION /' || args.join(' ') === '-n -o PROPAGATION /') return ok(`${prop}\n`);
  return fail(1, `findmnt: the lab models only "findmnt -no PROPAGATION /"\n`);
}
