/**
 * `sqlite3 <db> ".backup FILE"` in a container (only where `/usr/bin/sqlite3` is in its files):
 * the copy of a live k3s state.db holds the cluster's Kubernetes state, as a consistent backup.
 */
import { datastoreCopy, STATE_DB } from './datastore.js';
import { findContainer } from './k3s-model.js';
import { normalizePath, readFile, writeFile } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export const SQLITE3 = '/usr/bin/sqlite3';

export function runSqlite3(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const [db, cmd, ...more] = args;
  const m = /^\.backup\s+(?:main\s+)?'?([^']+)'?$/.exec(cmd ?? '');
  if (db === undefined || !m || more.length > 0) return fail(1, 'sqlite3: the lab models only: sqlite3 DB ".backup FILE"\n');
  const target = m[1] ?? '';
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    const cur = readFile(ct.fs, db);
    if (!('content' in cur)) return fail(1, `Error: unable to open database "${db}": unable to open database file\n`);
    const cluster = ct.k3s.dataCluster;
    const text =
      normalizePath(db) === STATE_DB && cluster !== undefined ? datastoreCopy('sqlite', cluster, s.clusters[cluster]) : cur.content;
    if (writeFile(ct.fs, target, { content: text, mode: 0o644 }))
      return fail(1, `Error: unable to open database "${target}": unable to open database file\n`);
    return ok();
  });
}
