/** The private directory holding ssh control sockets (one multiplexed master per host). */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { FileError } from '../domain/errors.js';

/** Unix socket paths are limited to ~104 bytes; the socket's name is 40 hex digits. */
const MAX_SOCKET_PATH = 100;
const NAME_LENGTH = 40;

/** A short path on purpose (os.tmpdir() is long on macOS): `/tmp/pve-k3s-<uid>`. */
export function defaultControlDir(): string {
  return `/tmp/pve-k3s-${process.getuid?.() ?? userInfo().username}`;
}

/** What makes two ssh invocations the same connection: the same destination, config file and extra options. */
export interface ConnectionIdentity {
  destination: string;
  configFile?: string | undefined;
  extraOptions?: readonly string[] | undefined;
}

/**
 * The control socket's path: `<dir>/<sha1 of the connection identity>`. Computed here rather
 * than left to ssh's `%C` so pve-k3s can see the socket itself (is a master already up, from
 * this or an earlier command?) without starting `ssh -O check`; every process with the same
 * destination, config file and options finds the same socket.
 */
export function controlPathFor(dir: string, id: ConnectionIdentity): string {
  if (Buffer.byteLength(dir) + 1 + NAME_LENGTH > MAX_SOCKET_PATH) {
    throw new TypeError(
      `ssh control directory path is too long for a unix socket (max ${MAX_SOCKET_PATH - NAME_LENGTH - 1} bytes): ${dir}`,
    );
  }
  const name = createHash('sha1')
    .update(JSON.stringify([id.destination, id.configFile ?? null, id.extraOptions ?? []]))
    .digest('hex');
  return `${dir}/${name}`;
}

/** The ControlPath option's value: `%` escaped so ssh keeps the path literal. */
export function sshControlPathOption(path: string): string {
  return path.replaceAll('%', '%%');
}

export type SocketState = 'alive' | 'stale' | 'none';

/**
 * Whether a master listens on the socket: a connect() that succeeds (closed at once; the master
 * drops a client that says nothing) means alive; ECONNREFUSED means a master died and left
 * its socket; no file means none.
 */
export function socketState(path: string): Promise<SocketState> {
  return new Promise((resolve) => {
    const sock = createConnection({ path });
    sock.once('connect', () => {
      sock.destroy();
      resolve('alive');
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      sock.destroy();
      resolve(e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 'none' : 'stale');
    });
  });
}

/** Removes a stale socket (ignores one already gone). */
export async function removeStale(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
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
