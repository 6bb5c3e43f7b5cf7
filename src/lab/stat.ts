/** `stat -c %s FILE` in a container (the only form the lab models): a lab k3s binary reports the size of a real one. */
import { findContainer } from './k3s-model.js';
import { K3S_BINARY_BYTES } from './policy-state.js';
import { readFile, resolve } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runStat(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  if (args.length !== 3 || args[0] !== '-c' || args[1] !== '%s') return fail(1, 'stat: the lab models only "stat -c %s FILE"\n');
  const file = args[2] ?? '';
  const ct = findContainer(ctx.store.read(), ref.host, ref.vmid)?.ct;
  if (!ct) return fail(1, 'stat: the container is gone\n');
  const target = resolve(ct.fs, file);
  if (!target.entry) return fail(1, `stat: cannot statx '${file}': No such file or directory\n`);
  const f = readFile(ct.fs, target.path);
  if (!('content' in f)) return ok('4096\n');
  return ok(`${f.content.startsWith('\x7fELF k3s') ? K3S_BINARY_BYTES : Buffer.byteLength(f.content)}\n`);
}
