/** `pct` on one Proxmox host, over a Shell. Parsers are exported for tests. */
import type { RunOptions, RunResult, Shell } from '../shell/shell.js';

export interface PctListEntry {
  vmid: number;
  status: string;
  lock: string | undefined;
  name: string;
}

/**
 * `pct list` prints `printf("%-10s %-10s %-12s %-20s\n")` rows under `VMID Status Lock Name`;
 * Lock is usually blank, and nothing at all is printed when there are no containers.
 */
export function parsePctList(text: string): PctListEntry[] {
  const out: PctListEntry[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length < 3 || tokens[0] === 'VMID') continue;
    const vmid = Number(tokens[0]);
    if (!Number.isInteger(vmid)) continue;
    const hasLock = tokens.length >= 4;
    out.push({
      vmid,
      status: tokens[1]!,
      lock: hasLock ? tokens[2] : undefined,
      name: hasLock ? tokens.slice(3).join(' ') : tokens.slice(2).join(' '),
    });
  }
  return out;
}

/** `pct config` / `pct status` style `key: value` lines. */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break; // snapshot sections follow the current config
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

export class Pct {
  constructor(readonly shell: Shell) {}

  get host(): string {
    return this.shell.host;
  }

  /** Runs argv inside the container: `pct exec <vmid> -- argv...` (no shell inside). */
  exec(vmid: number, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.shell.run(['pct', 'exec', String(vmid), '--', ...argv], opts);
  }

  /** Runs a POSIX sh script inside the container, sent on stdin (keeps secrets out of argv). */
  execScript(vmid: number, script: string, opts?: Omit<RunOptions, 'stdin'>): Promise<RunResult> {
    return this.shell.run(['pct', 'exec', String(vmid), '--', 'sh', '-s'], { ...opts, stdin: script });
  }

  async list(opts?: RunOptions): Promise<RunResult & { entries: PctListEntry[] }> {
    const r = await this.shell.run(['pct', 'list'], opts);
    return { ...r, entries: r.code === 0 ? parsePctList(r.stdout) : [] };
  }
}
