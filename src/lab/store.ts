/**
 * Persistence of the lab state in `<dir>/state.json`, shared by several processes (a host
 * script may run several `pct` shims at once). Every load-modify-save runs synchronously
 * under a lock file, so no update is lost and nothing awaits while holding the lock; the
 * state is re-read only when the file changed (another process wrote it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LabState } from './types.js';
import { withFileLock } from './file-lock.js';

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
    return this.statFile(false) !== undefined;
  }

  /** The current state (cached; re-read when the file changed). Do not keep it across awaits. */
  read(): LabState {
    return this.load(false);
  }

  private load(locked: boolean): LabState {
    if (this.exclusive && this.cache !== undefined) return this.cache;
    for (;;) {
      const st = this.statFile(locked) ?? fs.statSync(this.file); // no state: throws ENOENT
      const stamp = stampOf(st);
      if (this.cache !== undefined && stamp === this.cacheStamp) return this.cache;
      let text: string;
      try {
        text = fs.readFileSync(this.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // replaced meanwhile (write())
        throw e;
      }
      this.cache = JSON.parse(text) as LabState;
      this.cacheStamp = stamp;
      return this.cache;
    }
  }

  /** Load-modify-save under the lock. `fn` must be synchronous. */
  update<T>(fn: (s: LabState) => T): T {
    if (this.exclusive) {
      // No reload on a throw here: state.json may be older than what memory holds.
      this.dirty = true;
      return fn(this.read());
    }
    return this.withLock(() => {
      const s = this.load(true);
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
    // Remove, then rename into the free name: ext4 (auto_da_alloc) writes out the data of a file
    // renamed OVER another at once, which made every update cost milliseconds on a busy disk.
    // A reader that looks in between waits for the writer (statFile); one killed there is recovered.
    fs.rmSync(this.file, { force: true });
    fs.renameSync(tmp, this.file);
    this.cache = s;
    this.cacheStamp = stampOf(fs.statSync(this.file));
  }

  /**
   * The state file's stat; while a writer is between removing the old file and renaming the new
   * one in, waits for it. undefined when there is no state (and no write a killed process left).
   */
  private statFile(locked: boolean): fs.Stats | undefined {
    for (let i = 0; i < 5000; i++) {
      const st = fs.statSync(this.file, { throwIfNoEntry: false });
      if (st) return st;
      if (locked || !fs.existsSync(this.lockFile)) return this.recover(locked) ? fs.statSync(this.file) : undefined;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
    return undefined;
  }

  /** A writer killed between removing the old file and renaming the new one left its complete copy: take it. */
  private recover(locked: boolean): boolean {
    const fix = (): boolean => {
      if (fs.existsSync(this.file)) return true;
      let names: string[];
      try {
        names = fs.readdirSync(this.dir);
      } catch {
        return false;
      }
      const copies = names
        .filter((n) => n.startsWith('state.json.') && n.endsWith('.tmp'))
        .map((n) => path.join(this.dir, n))
        .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
      if (copies[0] === undefined) return false;
      fs.renameSync(copies[0], this.file);
      return true;
    };
    return locked ? fix() : fs.existsSync(this.dir) && this.withLock(fix);
  }

  private withLock<T>(fn: () => T): T {
    return withFileLock(this.lockFile, `lab state ${this.file}`, fn);
  }
}

// Inode + mtime + size: each write brings a new inode, so any foreign write is seen.
function stampOf(st: fs.Stats): string {
  return `${st.ino}:${st.mtimeMs}:${st.size}`;
}
