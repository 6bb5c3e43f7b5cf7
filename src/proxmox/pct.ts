/** `pct` on one Proxmox host, over a Shell. Parsers are exported for tests. */
import type { RunOptions, RunResult, Shell } from '../shell/shell.js';
import { ShellError, invariant } from '../domain/errors.js';
import { quoteCommand } from '../shell/quote.js';
import { SessionLostError, type ScriptSession } from '../shell/session.js';

export interface PctOptions {
  /**
   * Run exec/execScript through sessions (a long-lived `pct exec <vmid> -- sh -s` per
   * container, see shell/session.ts) when the Shell offers them; results are those of one
   * `pct exec` (stdout, stderr and exit status apart). @default false
   */
  sessions?: boolean;
  /** At most this many sessions open on the host at once (sshd's MaxSessions is 10 per connection). @default 6 */
  maxSessions?: number;
}

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
  readonly #pool: Map<number, ScriptSession[]> | undefined;
  readonly #max: number;
  /** Containers whose session could not start: one-shot pct exec until warm() asks again. */
  readonly #refused = new Set<number>();
  readonly #spare = new Set<number>();
  /** Sessions being closed (their channel not yet given back). */
  #closing = 0;

  constructor(
    readonly shell: Shell,
    opts: PctOptions = {},
  ) {
    this.#pool = opts.sessions && shell.openSession ? new Map() : undefined;
    this.#max = opts.maxSessions ?? 6;
  }

  get host(): string {
    return this.shell.host;
  }

  /** Runs argv inside the container: `pct exec <vmid> -- argv...` (no shell inside; through a session: quoted by quoteCommand). */
  async exec(vmid: number, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    if (opts?.stdin === undefined) {
      const r = await this.#viaSession(vmid, quoteCommand(argv), opts);
      if (r) return r;
    }
    return this.shell.run(['pct', 'exec', String(vmid), '--', ...argv], opts);
  }

  /** Runs a POSIX sh script inside the container, sent on stdin (keeps secrets out of argv). */
  async execScript(vmid: number, script: string, opts?: Omit<RunOptions, 'stdin'>): Promise<RunResult> {
    const r = await this.#viaSession(vmid, script, opts);
    return r ?? this.shell.run(['pct', 'exec', String(vmid), '--', 'sh', '-s'], { ...opts, stdin: script });
  }

  /**
   * Opens a session into the container ahead of use (its start then overlaps other work).
   * `spare`: from now on, keep one idle session ready for it (a container many commands go to,
   * the controller). No-op without sessions.
   */
  warm(vmid: number, o: { spare?: boolean } = {}): void {
    if (!this.#pool) return;
    this.#refused.delete(vmid);
    if (o.spare) this.#spare.add(vmid);
    if (!this.#alive(vmid).some((s) => !s.busy)) this.#open(vmid);
  }

  /** Ends the sessions of one container, or all. */
  async closeSessions(vmid?: number): Promise<void> {
    if (!this.#pool) return;
    const ids = vmid === undefined ? [...this.#pool.keys()] : [vmid];
    const closing = ids.flatMap((id) => this.#pool!.get(id) ?? []);
    for (const id of ids) this.#pool.delete(id);
    // Until it has ended, a closing session still holds its SSH channel: it counts against the cap.
    this.#closing += closing.length;
    await Promise.all(
      closing.map((s) =>
        s.close().finally(() => {
          this.#closing--;
        }),
      ),
    );
  }

  #alive(vmid: number): ScriptSession[] {
    const list = (this.#pool?.get(vmid) ?? []).filter((s) => s.alive);
    this.#pool?.set(vmid, list);
    return list;
  }

  #open(vmid: number): ScriptSession | undefined {
    const open = [...this.#pool!.values()].reduce((n, l) => n + l.filter((s) => s.alive).length, 0) + this.#closing;
    if (open >= this.#max) return undefined;
    const s = this.shell.openSession!(['pct', 'exec', String(vmid), '--', 'sh', '-s']);
    this.#alive(vmid).push(s);
    return s;
  }

  /** undefined: no session to use (the caller runs one pct exec). */
  async #viaSession(vmid: number, script: string, opts?: Omit<RunOptions, 'stdin'>): Promise<RunResult | undefined> {
    if (!this.#pool || this.#refused.has(vmid)) return undefined;
    const s = this.#alive(vmid).find((x) => !x.busy) ?? this.#open(vmid);
    if (!s) return undefined;
    if (this.#spare.has(vmid) && !this.#alive(vmid).some((x) => x !== s && !x.busy)) this.#open(vmid);
    try {
      return await s.run(script, {
        ...(opts?.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        ...(opts?.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      if (!(e instanceof SessionLostError)) throw e;
      // Nothing ran: the one-shot pct exec gives the real answer (container stopped, host down...).
      if (!e.started) {
        this.#refused.add(vmid);
        return undefined;
      }
      throw new ShellError(`${this.host}: connection lost while running a command in CT ${vmid}`, {
        host: this.host,
        unreachable: true,
        detail: e.detail ?? e.message,
        cause: e,
      });
    }
  }

  async list(opts?: RunOptions): Promise<RunResult & { entries: PctListEntry[] }> {
    const r = await this.shell.run(['pct', 'list'], opts);
    return { ...r, entries: r.code === 0 ? parsePctList(r.stdout) : [] };
  }
}

/** One Pct per Proxmox host, made on first use from its Shell, and the end of all their sessions. */
export class PctPool {
  readonly #pcts = new Map<string, Pct>();

  constructor(
    readonly shells: ReadonlyMap<string, Shell>,
    readonly opts: PctOptions = {},
  ) {}

  /** The host's Pct (a function, to hand on as `(host) => Pct`). */
  readonly pct = (host: string): Pct => {
    let p = this.#pcts.get(host);
    if (!p) {
      const shell = this.shells.get(host);
      invariant(shell, `no shell for Proxmox host ${host}`);
      p = new Pct(shell, this.opts);
      this.#pcts.set(host, p);
    }
    return p;
  };

  /** Ends the sessions of every Pct made so far; never throws. */
  async closeSessions(): Promise<void> {
    await Promise.allSettled([...this.#pcts.values()].map((p) => p.closeSessions()));
  }
}
