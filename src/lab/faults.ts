/** Command faults: matched against host commands and commands run in containers, consumed as they fire. */
import type { Fault, FaultEffect, LabState } from './types.js';

export interface FaultSite {
  level: 'host' | 'container';
  host: string;
  vmid: number | undefined;
  argv: readonly string[];
  stdin?: string;
}

export function faultMatches(f: Fault, site: FaultSite): boolean {
  const m = f.match;
  if (m.level !== undefined && m.level !== site.level) return false;
  if (m.host !== undefined && m.host !== site.host) return false;
  if (m.vmid !== undefined && m.vmid !== site.vmid) return false;
  if (m.argvPrefix !== undefined && !m.argvPrefix.every((a, i) => site.argv[i] === a)) return false;
  if (m.contains !== undefined) {
    const text = `${matchedArgv(site).join(' ')}${site.level === 'host' && site.stdin ? `\n${site.stdin}` : ''}`;
    if (!text.includes(m.contains)) return false;
  }
  return true;
}

/**
 * What `contains` looks at: the argv, but for a container's shell given a script (`sh -c
 * SCRIPT`) its argv without the script. The programs the script runs are matched as each
 * starts, as for a script on stdin (a session's `sh -s`), and as on a real host or the e2e
 * harness's real dash, where a fault of kubectl is kubectl's answer inside the script, not
 * the shell's.
 */
function matchedArgv(site: FaultSite): readonly string[] {
  const shell = /(^|\/)(sh|dash|bash)$/.test(site.argv[0] ?? '');
  return site.level === 'container' && shell && site.argv[1] === '-c' ? [site.argv[0]!, '-c', ...site.argv.slice(3)] : site.argv;
}

/** Fires the first matching fault (mutates `s`: call inside a store update). */
export function consumeFault(s: LabState, site: FaultSite): FaultEffect | undefined {
  const i = s.faults.findIndex((f) => faultMatches(f, site));
  const f = s.faults[i];
  if (!f) return undefined;
  const left = (f.times ?? 1) - 1;
  if (left <= 0) s.faults.splice(i, 1);
  else f.times = left;
  return f.effect;
}

/** The vmid a host argv addresses (`pct <sub> <vmid>`), for matching. */
export function argvVmid(argv: readonly string[]): number | undefined {
  if (argv[0] !== 'pct' && argv[0] !== '/usr/sbin/pct') return undefined;
  const v = argv[2];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}
