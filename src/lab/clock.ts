/**
 * The lab's time. A lab runs on one of two clocks, chosen when it is created:
 * - `real`: the wall clock and timers (`lab init`, the demo, benchmarks);
 * - `virtual`: the wall clock plus an offset kept in `<dir>/clock.json`, which leaps forward
 *   when every party of the lab is waiting. A party is a process using the lab: its sleepers
 *   (a simulated download, a restart, kubectl wait, a drain's retry, a fault's delay, the
 *   caller's timeout, the runner's polls when it runs on the lab's clock) wait for a point of
 *   lab time. When a process has nothing left to do but wait, it moves the offset on to its
 *   earliest wake-up, unless another process holds the clock (`hold()`: a test that is about
 *   to act on a run in progress). Time never goes back, and never runs slower than real time:
 *   a sleeper also wakes when the wall clock reaches it. Several processes sleeping at once
 *   each move the clock on their own, so their wake-ups interleave only roughly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from '../domain/clock.js';
import { RunError } from '../domain/errors.js';
import { withFileLock } from './file-lock.js';

export type LabClockMode = 'real' | 'virtual';

/** How often a process whose clock is held looks whether the hold is gone. */
const HOLD_POLL_MS = 2;

interface Sleeper {
  wake: number;
  resolve(): void;
  timer: NodeJS.Timeout | undefined;
}

/** A clock of the lab in `dir`: the real one, or the directory's virtual clock (one per process). */
export function labClock(dir: string, mode: LabClockMode): LabClock {
  if (mode === 'real') return REAL;
  const abs = path.resolve(dir);
  let c = VIRTUAL.get(abs);
  if (!c) VIRTUAL.set(abs, (c = new VirtualClock(abs)));
  return c;
}

export interface LabClock extends Clock {
  readonly mode: LabClockMode;
  /**
   * Stops the virtual clock from leaping (real time still passes) until the returned function
   * is called or this process ends. For a test that watches a run in another process and
   * must act before it goes on. A no-op on the real clock.
   */
  hold(): () => void;
}

/** Forgets this process's virtual clock of `dir` (a new lab is made there: its time starts afresh). */
export function forgetLabClock(dir: string): void {
  const abs = path.resolve(dir);
  VIRTUAL.get(abs)?.close();
  VIRTUAL.delete(abs);
}

const REAL: LabClock = { mode: 'real', now: systemClock.now, sleep: systemClock.sleep, hold: () => () => {} };
const VIRTUAL = new Map<string, VirtualClock>();

/**
 * `<dir>/clock.json` holds the offset twice on one line of fixed width, rewritten in place: no
 * rename (cheap on a busy disk), and a reader that catches a write half done sees two different
 * numbers and reads again.
 */
const WIDTH = 16;
const encode = (offset: number): Buffer => {
  const n = String(offset).padStart(WIDTH, '0');
  return Buffer.from(`{"offsetMs":${n},"check":${n}}\n`);
};
const RECORD = encode(0).length;
const decode = (b: Buffer): number | undefined => {
  const m = /^\{"offsetMs":(\d+),"check":(\d+)\}\n$/.exec(b.toString('latin1'));
  return m && m[1] === m[2] ? Number(m[1]) : undefined;
};

class VirtualClock implements LabClock {
  readonly mode = 'virtual';
  readonly #file: string;
  readonly #lock: string;
  readonly #holds: string;
  readonly #sleepers = new Set<Sleeper>();
  readonly #buf = Buffer.alloc(RECORD);
  #scheduled = false;
  #fd: number | undefined;
  #holdSeq = 0;
  /** The largest time this process has seen: its now() never goes back. */
  #floor = 0;
  /** The offset last read, and when (performance.now()): read again after a millisecond. */
  #cached: { offset: number; at: number } | undefined;

  constructor(dir: string) {
    this.#file = path.join(dir, 'clock.json');
    this.#lock = path.join(dir, 'clock.lock');
    this.#holds = path.join(dir, 'clock-holds');
    try {
      fs.writeFileSync(this.#file, encode(0), { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }

  now(): number {
    this.#floor = Math.max(this.#floor, Date.now() + this.#offsetMs());
    return this.#floor;
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(ms > 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#drop(s);
        reject(signal?.reason);
      };
      const s: Sleeper = {
        wake: this.now() + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        timer: undefined,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.add(s);
      this.#arm(s);
      this.#schedule();
    });
  }

  hold(): () => void {
    fs.mkdirSync(this.#holds, { recursive: true });
    const file = path.join(this.#holds, `${process.pid}-${++this.#holdSeq}`);
    fs.writeFileSync(file, '');
    let released = false;
    return () => {
      if (released) return;
      released = true;
      fs.rmSync(file, { force: true });
    };
  }

  /** The wall-clock fallback: wakes `s` when real time reaches it (it may be woken earlier by a leap). */
  #arm(s: Sleeper): void {
    s.timer = setTimeout(
      () => {
        s.timer = undefined;
        if (this.now() >= s.wake) this.#wake(s);
        else this.#arm(s);
      },
      Math.max(1, s.wake - this.now()),
    );
  }

  #wake(s: Sleeper): void {
    this.#drop(s);
    s.resolve();
  }

  #drop(s: Sleeper): void {
    this.#sleepers.delete(s);
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
  }

  // After this process's pending work has run (two turns of the event loop), it only waits.
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() =>
      setImmediate(() => {
        this.#scheduled = false;
        this.#leap();
      }),
    );
  }

  #leap(): void {
    if (this.#sleepers.size === 0) return;
    if (this.#held()) {
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        this.#schedule();
      }, HOLD_POLL_MS);
      return;
    }
    let target = Infinity;
    for (const s of this.#sleepers) target = Math.min(target, s.wake);
    this.#advanceTo(target);
    const now = this.now();
    for (const s of [...this.#sleepers]) if (s.wake <= now) this.#wake(s);
  }

  /** Moves the shared offset so that now() >= target (never backwards), under the clock's lock. */
  #advanceTo(target: number): void {
    withFileLock(this.#lock, `lab clock ${this.#file}`, () => {
      const offset = this.#readOffset();
      const ahead = Math.ceil(target - (Date.now() + offset));
      if (ahead <= 0) return;
      if (this.#open() === undefined) {
        fs.writeFileSync(this.#file, encode(0), { flag: 'wx' });
        this.#open();
      }
      fs.writeSync(this.#fd!, encode(offset + ahead), 0, RECORD, 0);
      this.#cached = { offset: offset + ahead, at: performance.now() };
    });
  }

  #offsetMs(): number {
    const t = performance.now();
    if (this.#cached && t - this.#cached.at < 1) return this.#cached.offset;
    const offset = this.#readOffset();
    this.#cached = { offset, at: t };
    return offset;
  }

  #readOffset(): number {
    for (let tries = 0; ; tries++) {
      const fd = this.#open();
      if (fd === undefined) return 0;
      const n = fs.readSync(fd, this.#buf, 0, RECORD, 0);
      const offset = n === RECORD ? decode(this.#buf) : undefined;
      if (offset !== undefined) return offset;
      if (tries > 1000) throw new RunError(`lab clock ${this.#file} is unreadable`, { hint: 'remove it (the lab then runs on real time)' });
    }
  }

  /** The clock file's descriptor, opened once (undefined while the lab has none: offset 0). */
  #open(): number | undefined {
    if (this.#fd === undefined) {
      try {
        this.#fd = fs.openSync(this.#file, 'r+');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    }
    return this.#fd;
  }

  /** Whether a live process holds the clock (holds of dead processes are removed). */
  #held(): boolean {
    let names: string[];
    try {
      names = fs.readdirSync(this.#holds);
    } catch {
      return false;
    }
    let held = false;
    for (const n of names) {
      const pid = Number(n.split('-')[0]);
      if (alive(pid)) held = true;
      else fs.rmSync(path.join(this.#holds, n), { force: true });
    }
    return held;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
