/** Small edits and reads of a lab's state for tests and scripts: files on a host, a container's directory. */
import { UsageError } from '../domain/errors.js';
import { listDir, mkdirp, writeFile } from './vfs.js';
import type { LabState } from './types.js';

/** Writes a file into a host's file system (tests: air-gap bundles, templates). */
export function putHostFile(
  s: LabState,
  host: string,
  { path, content, mode = 0o644 }: { path: string; content: string; mode?: number },
): void {
  const h = s.hosts.find((x) => x.name === host);
  if (!h) throw new UsageError(`lab: no host ${host}`);
  mkdirp(h.fs, path.slice(0, path.lastIndexOf('/')) || '/');
  writeFile(h.fs, path, { content, mode });
}

/** Lists a container directory (by the container's hostname); empty when there is no such container. */
export function labList(s: LabState, node: string, dir: string): string[] {
  const ct = s.hosts.flatMap((h) => h.containers).find((c) => c.hostname === node);
  return ct ? listDir(ct.fs, dir) : [];
}
