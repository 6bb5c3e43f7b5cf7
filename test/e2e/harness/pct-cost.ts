/**
 * A configurable start-up cost for the harness's `pct`: on a real Proxmox host a `pct exec`
 * costs 0.3-0.5 s (a Perl start plus lxc-attach) before the command runs. After the lab's shims
 * are installed in binDir, wrapPct() moves `pct` to `pct.lab` and puts a wrapper in its place
 * that sleeps the cost written in `binDir/pct-cost` (seconds, 0 by default), so the cost can
 * change between runs without reinstalling anything.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MARK = '# pve-k3s harness: pct with a start-up cost';

/** Wraps binDir/pct (again after installShims rewrote it); idempotent. */
export function wrapPct(binDir: string, seconds = 0): void {
  const pct = join(binDir, 'pct');
  if (!readFileSync(pct, 'utf8').includes(MARK)) {
    renameSync(pct, join(binDir, 'pct.lab'));
    writeFileSync(
      pct,
      // Builtins only (no dirname, no cat): with the cost at 0 the wrapper adds one sh start, no more.
      `#!/bin/sh\n${MARK}\nd=\${0%/*}\nc=0\n[ -r "$d/pct-cost" ] && read -r c < "$d/pct-cost"\n[ "$c" = 0 ] || sleep "$c"\nexec "$d/pct.lab" "$@"\n`,
      { mode: 0o755 },
    );
  }
  setPctCost(binDir, seconds);
}

/** The cost every later `pct` call pays, in seconds. */
export function setPctCost(binDir: string, seconds: number): void {
  if (!(seconds >= 0)) throw new RangeError(`pct cost must be a number of seconds >= 0, got ${seconds}`);
  writeFileSync(join(binDir, 'pct-cost'), `${seconds}\n`);
}

export function pctCost(binDir: string): number {
  const f = join(binDir, 'pct-cost');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
}
