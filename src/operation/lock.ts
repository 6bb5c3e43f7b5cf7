/**
 * The cluster lock: an annotation on the controller's Node object, held in the cluster itself
 * so that operators on different machines see it. Its value is JSON `{holder, run, since,
 * expires}`. Taking it is `kubectl annotate` WITHOUT --overwrite, which the API server refuses
 * when the annotation exists: an atomic create-if-absent. The holder renews it while running;
 * an expired lock (its holder died) may be taken over.
 */
import { hostname, userInfo } from 'node:os';
import { PveK3sError, RunError, type ErrorOptions } from '../domain/errors.js';
import type { Kube } from '../kube/kube.js';
import { parseJsonOutput } from '../kube/nodes.js';
import { failureReason } from '../shell/reason.js';

export const LOCK_ANNOTATION = 'pve-k3s.io/upgrade-lock';
/** @default 10 minutes; renewed every third of it. */
export const DEFAULT_LOCK_TTL_MS = 10 * 60_000;

export interface LockValue {
  holder: string;
  run: string;
  since: string;
  expires: string;
}

/** Another operator (or a run of ours that has not ended) holds the cluster. */
export class LockedError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly lock: LockValue;
  constructor(message: string, opts: ErrorOptions & { lock: LockValue }) {
    super(message, opts);
    this.lock = opts.lock;
  }
}

export function parseLock(text: unknown): LockValue | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as Partial<LockValue>;
    if (typeof v.holder === 'string' && typeof v.run === 'string' && typeof v.since === 'string' && typeof v.expires === 'string') {
      return { holder: v.holder, run: v.run, since: v.since, expires: v.expires };
    }
  } catch {
    // not ours
  }
  return undefined;
}

/** The lock as the cluster holds it now; undefined when free. Throws when the API does not answer. */
export async function readLock(kube: Kube, node: string, signal?: AbortSignal): Promise<LockValue | undefined> {
  const r = await kube.check(['get', 'node', node, '-o', 'json'], { signal, timeoutMs: 30_000 });
  const doc = parseJsonOutput(r.stdout) as { metadata?: { annotations?: Record<string, unknown> } };
  return parseLock(doc.metadata?.annotations?.[LOCK_ANNOTATION]);
}

export interface ClusterLockOptions {
  kube: Kube;
  /** The node that carries the annotation (the inventory's controller). */
  node: string;
  holder: string;
  run: string;
  ttlMs?: number;
  /** A run whose lock may be taken over even before it expires (the run being resumed). */
  takeOver?: string;
  now?: () => number;
}

export class ClusterLock {
  private value: LockValue | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly ttl: number;
  private readonly now: () => number;
  constructor(private readonly o: ClusterLockOptions) {
    this.ttl = o.ttlMs ?? DEFAULT_LOCK_TTL_MS;
    this.now = o.now ?? Date.now;
  }

  private fresh(since?: string): LockValue {
    const now = this.now();
    return {
      holder: this.o.holder,
      run: this.o.run,
      since: since ?? new Date(now).toISOString(),
      expires: new Date(now + this.ttl).toISOString(),
    };
  }

  private write(v: LockValue, overwrite: boolean) {
    const args = ['annotate', 'node', this.o.node, `${LOCK_ANNOTATION}=${JSON.stringify(v)}`];
    if (overwrite) args.push('--overwrite');
    return this.o.kube.kubectl(args, { timeoutMs: 30_000 });
  }

  /** Takes the lock or throws LockedError naming the holder and since when. */
  async acquire(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const cur = await readLock(this.o.kube, this.o.node);
      if (cur === undefined) {
        const v = this.fresh();
        const r = await this.write(v, false);
        if (r.code === 0) {
          this.value = v;
          return;
        }
        if (!/already has a value/.test(r.stderr)) throw this.o.kube.error(['annotate', 'node', this.o.node], r);
        continue; // someone else was faster: read who
      }
      const expired = Date.parse(cur.expires) <= this.now();
      const ours = cur.run === this.o.run || (this.o.takeOver !== undefined && cur.run === this.o.takeOver);
      if (!expired && !ours) throw lockedError(cur, this.o.node);
      const v = this.fresh();
      const r = await this.write(v, true);
      if (r.code !== 0) throw this.o.kube.error(['annotate', 'node', this.o.node], r);
      this.value = v;
      return;
    }
    const cur = await readLock(this.o.kube, this.o.node);
    if (cur) throw lockedError(cur, this.o.node);
    throw new RunError(`cannot take the upgrade lock on ${this.o.node}: it changed hands twice while pve-k3s tried`, {
      hint: 'run the command again',
    });
  }

  /** Renews every ttl/3 in the background; failures (API down while a server restarts) are retried next time. */
  startRenewing(onError?: (message: string) => void): void {
    this.timer = setInterval(
      () => {
        if (!this.value) return;
        const v = this.fresh(this.value.since);
        this.write(v, true).then(
          (r) => {
            if (r.code === 0) this.value = v;
            else onError?.(failureReason(r, { singleLine: true }));
          },
          (err: unknown) => onError?.(err instanceof Error ? err.message : String(err)),
        );
      },
      Math.max(1000, Math.floor(this.ttl / 3)),
    );
    this.timer.unref();
  }

  /** Removes the lock if it is still ours. Returns an error message instead of throwing. */
  async release(): Promise<string | undefined> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.value) return undefined;
    try {
      const cur = await readLock(this.o.kube, this.o.node);
      if (cur && cur.run !== this.o.run) return undefined;
      const r = await this.o.kube.annotate(this.o.node, LOCK_ANNOTATION, undefined, { timeoutMs: 30_000 });
      if (r.code !== 0) return failureReason(r);
      this.value = undefined;
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  get expires(): string | undefined {
    return this.value?.expires;
  }
}

function lockedError(cur: LockValue, node: string): LockedError {
  return new LockedError(`cluster is locked by ${cur.holder} since ${cur.since} (run ${cur.run}, expires ${cur.expires})`, {
    lock: cur,
    hint: `another upgrade is running; wait for it to end. If its process is gone, the lock expires at ${cur.expires}, or remove it by hand: kubectl annotate node ${node} ${LOCK_ANNOTATION}-`,
  });
}

/** Who we are, for the lock and the journal: `user@host pid N`. */
export function holderName(): string {
  let user = process.env['USER'] ?? process.env['LOGNAME'];
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()} pid ${process.pid}`;
}
