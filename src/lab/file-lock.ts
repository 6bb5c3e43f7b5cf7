/**
 * A lock file for a synchronous critical section shared by processes (created with O_EXCL;
 * one older than STALE_LOCK_MS belongs to a killed process and is broken). Nothing may await
 * while holding it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunError } from '../domain/errors.js';

const STALE_LOCK_MS = 5_000;
const LOCK_WAIT_MS = 30_000;

/** Runs `fn` holding `lockFile`; `what` names the locked thing in the error after LOCK_WAIT_MS. */
export function withFileLock<T>(lockFile: string, what: string, fn: () => T): T {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      breakStaleLock(lockFile);
      if (Date.now() > deadline)
        throw new RunError(`${what} is locked by another process (${lockFile})`, {
          hint: 'wait for the other pve-k3s command on this lab to finish',
          cause: e,
        });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

// Locks are held for milliseconds; one older than STALE_LOCK_MS belongs to a killed process.
function breakStaleLock(lockFile: string): void {
  try {
    const st = fs.statSync(lockFile);
    if (Date.now() - st.mtimeMs > STALE_LOCK_MS) fs.rmSync(lockFile, { force: true });
  } catch {
    // gone meanwhile
  }
}
