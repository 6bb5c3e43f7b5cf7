/** `modprobe <module>...` on a lab host: loads the modules k3s needs (those its conditions say are missing). */
import { conditionsOf } from './conditions.js';
import { HOST_MODULES } from './pve-files.js';
import { fail, ok, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runModprobe(ctx: ExecContext, host: string, args: string[]): ExecResult {
  const mods = args.filter((a) => !a.startsWith('-'));
  if (mods.length === 0) return fail(1, 'modprobe: ERROR: missing parameters. See -h.\n');
  const unknown = mods.find((m) => !HOST_MODULES.includes(m));
  if (unknown) return fail(1, `modprobe: FATAL: Module ${unknown} not found in directory /lib/modules/6.8.12-4-pve\n`);
  ctx.store.update((s) => {
    const c = conditionsOf(s);
    if (c.missingModules?.[host]) c.missingModules[host] = c.missingModules[host].filter((m) => !mods.includes(m));
  });
  return ok();
}
