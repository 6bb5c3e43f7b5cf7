/** The private directory holding ssh control sockets (one multiplexed master per host). */
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { FileError } from '../domain/errors.js';

/** Unix socket paths are limited to ~104 bytes; %C expands to 40 hex digits. */
const MAX_SOCKET_PATH = 100;
const PERCENT_C_LENGTH = 40;

/** A short path on purpose (os.tmpdir() is long on macOS): `/tmp/pve-k3s-<uid>`. */
export function defaultControlDir(): string {
  return `/tmp/pve-k3s-${process.getuid?.() ?? userInfo().username}`;
}

/** The ControlPath for ssh: `%` in the directory is escaped so ssh keeps it literal. */
export function controlPathFor(dir: string): string {
  if (Buffer.byteLength(dir) + 1 + PERCENT_C_LENGTH > MAX_SOCKET_PATH) {
    throw new TypeError(
      `ssh control directory path is too long for a unix socket (max ${MAX_SOCKET_PATH - PERCENT_C_LENGTH - 1} bytes): ${dir}`,
    );
  }
  return `${dir.replaceAll('%', '%%')}/%C`;
}

/**
 * Create the directory 0700, or check an existing one: it must be a real directory (not a
 * symlink) owned by us, or another user could hijack our ssh connections.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory())
    throw new FileError(`ssh control directory ${dir} is not a directory`, { path: dir, hint: `remove ${dir} (pve-k3s makes it again)` });
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new FileError(`ssh control directory ${dir} belongs to another user (uid ${st.uid})`, {
      path: dir,
      hint: `someone else made ${dir}: check who and why before removing it; ssh connections through it could be hijacked`,
    });
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
}
