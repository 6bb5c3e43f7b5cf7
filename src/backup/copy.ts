/**
 * Off-host copies of a finished backup. A destination is a local directory (a mounted NAS, a
 * USB disk: the copy is re-read and every file checked against the manifest, then the same
 * retention applies there), or an rsync/SSH destination `[user@]host:/path` (rsync over your
 * own ssh, then `sha256sum -c SHA256SUMS` run on the destination host). A failed copy never
 * removes the local backup; it is reported and makes the run count as failed.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { RunError, UsageError } from '../domain/errors.js';
import { LocalShell } from '../shell/local-shell.js';
import { quoteArg, quoteCommand } from '../shell/quote.js';
import type { Shell } from '../shell/shell.js';
import type { RetentionPolicy } from './retention.js';
import { pruneBackups, verifyBackup, type BackupManifest } from './store.js';

export type CopyDestination = { kind: 'dir'; path: string } | { kind: 'rsync'; host: string; path: string };

export interface CopyResult {
  destination: string;
  ok: boolean;
  /** Where the copy is (a directory, or host:path). */
  target: string;
  message: string;
  pruned: string[];
}

/** `/mnt/nas/k3s` or `backup@nas:/srv/k3s` (a relative local path is resolved against the working directory). */
export function parseDestination(text: string): CopyDestination {
  const m = /^((?:[A-Za-z0-9._-]+@)?[A-Za-z0-9._-]+):(.+)$/.exec(text);
  if (m && !text.startsWith('/') && !text.startsWith('.')) {
    const path = m[2] ?? '';
    if (!path.startsWith('/'))
      throw new UsageError(`--copy-to ${text}: the remote path must be absolute`, { hint: `e.g. ${m[1]}:/srv/pve-k3s-backups` });
    if (/[\s'"\\$`]/.test(path)) throw new UsageError(`--copy-to ${text}: the remote path must not contain spaces, quotes or $`);
    return { kind: 'rsync', host: m[1] ?? '', path: path.replace(/\/+$/, '') || '/' };
  }
  if (text.startsWith('-')) throw new UsageError(`--copy-to ${text}: not a directory or host:/path`);
  return { kind: 'dir', path: isAbsolute(text) ? text : resolve(text) };
}

export interface CopyOptions {
  keep?: number | RetentionPolicy;
  /** Runs rsync and ssh (tests put stand-ins first on PATH). @default a LocalShell */
  shell?: Shell;
  signal?: AbortSignal;
}

/** Copies the backup (its directory and manifest) to `destination` (a directory, or rsync's host:path). */
export async function copyBackup(
  { dir, manifest: m }: { dir: string; manifest: BackupManifest },
  destination: string,
  o: CopyOptions = {},
): Promise<CopyResult> {
  const dest = parseDestination(destination);
  const name = basename(dir);
  if (dest.kind === 'dir') {
    const target = join(dest.path, name);
    try {
      mkdirSync(dest.path, { recursive: true, mode: 0o700 });
      cpSync(dir, target, { recursive: true, errorOnExist: true, force: false });
      const problems = verifyBackup(target, m);
      if (problems.length)
        return { destination, ok: false, target, message: `the copy does not match: ${problems.join('; ')}`, pruned: [] };
      const pruned = o.keep !== undefined ? pruneBackups(dest.path, m.cluster, o.keep) : [];
      return { destination, ok: true, target, message: 'OK', pruned };
    } catch (e) {
      return { destination, ok: false, target, message: (e as Error).message, pruned: [] };
    }
  }
  const shell = o.shell ?? new LocalShell();
  const target = `${dest.host}:${dest.path}/${name}`;
  const ssh = ['ssh', '-o', 'BatchMode=yes'];
  const run = async (argv: string[], what: string) => {
    const r = await shell.run(argv, { timeoutMs: 6 * 3600_000, ...(o.signal ? { signal: o.signal } : {}) });
    if (r.code !== 0) throw new RunError(`${what} failed (exit ${r.code}): ${lastLine(r.stderr || r.stdout)}`, { step: 'backup copy' });
    return r;
  };
  try {
    await run(
      ['rsync', '-a', '--mkpath', '--chmod=D700,F600', '-e', ssh.join(' '), `${dir}/`, `${dest.host}:${dest.path}/${name}/`],
      'rsync',
    );
    // The remote command is one string for the destination's shell: quoted by the one helper.
    const check = `cd ${quoteArg(`${dest.path}/${name}`)} && ${quoteCommand(['sha256sum', '-c', '--quiet', '--strict', 'SHA256SUMS'])}`;
    await run([...ssh, dest.host, check], 'sha256sum -c on the destination');
    return { destination, ok: true, target, message: 'OK', pruned: [] };
  } catch (e) {
    return { destination, ok: false, target, message: (e as Error).message, pruned: [] };
  }
}

function lastLine(s: string): string {
  const l = s.trim().split('\n').filter(Boolean);
  return (l[l.length - 1] ?? '(no output)').slice(0, 300);
}
