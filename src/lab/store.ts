/**
 * Persistence of the lab state in `<dir>/state.json`, shared by several processes (a host
 * script may run several `pct` shims at once). Every load-modify-save runs synchronously
 * under a lock file, so no update is lost and nothing awaits while holding the lock; the
 * state is re-read only when the file changed (another process wrote it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LabState } from './types.js';
import { RunError } from '../domain/errors.js';

const STALE_LOCK_MS = 5_000;
const LOCK_WAIT_MS = 30_000;

export class LabStore {
  readonly file: string;
  private readonly lockFile: string;
  private cache: LabState | undefined;
  private cacheStamp = '';
  private readonly exclusive: boolean;
  private dirty = false;

  /** `exclusive`: no other process uses the state meanwhile; updates stay in memory until flush(). */
  constructor(
    readonly dir: string,
    opts: { exclusive?: boolean } = {},
  ) {
    this.file = path.join(dir, 'state.json');
    this.lockFile = path.join(dir, 'state.lock');
    this.exclusive = opts.exclusive ?? false;
  }

  /** Writes what an exclusive store holds in memory. */
  flush(): void {
    if (this.dirty && this.cache) this.withLock(() => this.write(this.cache!));
  }

  exists(): boolean {
    return fs.existsSync(this.file);
  }

  /** The current state (cached; re-read when the file changed). Do not keep it across awaits. */
  read(): LabState {
    if (this.exclusive && this.cache !== undefined) return this.cache;
    const stamp = this.stamp();
    if (this.cache === undefined || stamp !== this.cacheStamp) {
      this.cache = JSON.parse(fs.readFileSync(this.file, 'utf8')) as LabState;
      this.cacheStamp = stamp;
    }
    return this.cache;
  }

  /** Load-modify-save under the lock. `fn` must be synchronous. */
  update<T>(fn: (s: LabState) => T): T {
    if (this.exclusive) {
      // No reload on a throw here: state.json may be older than what memory holds.
      this.dirty = true;
      return fn(this.read());
    }
    return this.withLock(() => {
      const s = this.read();
      let result: T;
      try {
        result = fn(s);
      } catch (e) {
        this.cache = undefined; // fn may have half-mutated it: reload next time
        throw e;
      }
      this.write(s);
      return result;
    });
  }

  /** Writes `s` as the whole state (initLab, or a test's direct mutation + save). */
  replace(s: LabState): void {
    this.withLock(() => this.write(s));
  }

  private write(s: LabState): void {
    this.dirty = false;
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(s));
    fs.renameSync(tmp, this.file);
    this.cache = s;
    this.cacheStamp = this.stamp();
  }

  // Inode + mtime + size: a rename always brings a new inode, so any foreign write is seen.
  private stamp(): string {
    const st = fs.statSync(this.file, { bigint: true });
    return `${st.ino}:${st.mtimeNs}:${st.size}`;
  }

  private withLock<T>(fn: () => T): T {
    fs.mkdirSync(this.dir, { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        fs.writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        this.breakStaleLock();
        if (Date.now() > deadline)
          throw new RunError(`lab state ${this.file} is locked by another process (${this.lockFile})`, {
            hint: 'wait for the other pve-k3s command on this lab to finish',
            cause: e,
          });
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      }
    }
    try {
      return fn();
    } finally {
      fs.rmSync(this.lockFile, { force: true });
    }
  }

  // Locks are held for milliseconds; one older than STALE_LOCK_MS belongs to a killed process.
  private breakStaleLock(): void {
    try {
      const st = fs.statSync(this.lockFile);
      if (Date.now() - st.mtimeMs > STALE_LOCK_MS) fs.rmSync(this.lockFile, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}
