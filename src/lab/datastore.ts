/**
 * A k3s server's datastore as files: SQLite's `db/state.db`, or embedded etcd's `db/etcd` and
 * `db/snapshots`. The Kubernetes state itself lives in `state.clusters`; a copy of it is
 * written into the file when SQLite is consistent on disk (k3s stopped, `sqlite3 .backup`, an
 * etcd snapshot), and a file holding such a copy is loaded back when the server starts.
 */
import { envPath, parseUnitExec, unitPath } from './k3s-files.js';
import { mkdirp, readFile } from './vfs.js';
import type { ContainerState, KubeCluster, LabState, Located } from './types.js';

export const SERVER_DIR = '/var/lib/rancher/k3s/server';
export const DB_DIR = `${SERVER_DIR}/db`;
export const STATE_DB = `${DB_DIR}/state.db`;
export const SNAPSHOT_DIR = `${DB_DIR}/snapshots`;
const LIVE = 'SQLite format 3 (pve-k3s lab: the live datastore)\n';
const HEADER = 'LAB-DATASTORE v1 ';

/** A server's datastore kind, from its unit's ExecStart (`--cluster-init` or `--server` = etcd). */
export function datastoreKind(ct: ContainerState): 'sqlite' | 'etcd' | undefined {
  const unit = readFile(ct.fs, unitPath('k3s'));
  if (!('content' in unit)) return undefined;
  const words = parseUnitExec(unit.content);
  const env = readFile(ct.fs, envPath('k3s'));
  const joining = 'content' in env && /^K3S_URL=/m.test(env.content);
  return words.includes('--cluster-init') || words.includes('--server') || joining ? 'etcd' : 'sqlite';
}

/** Writes the datastore files a running server has (state.db, or db/etcd + db/snapshots). */
export function ensureDatastoreFiles(ct: ContainerState): void {
  const kind = datastoreKind(ct);
  if (!kind) return;
  mkdirp(ct.fs, DB_DIR);
  if (kind === 'etcd') {
    mkdirp(ct.fs, `${DB_DIR}/etcd`);
    mkdirp(ct.fs, SNAPSHOT_DIR);
  } else if (!ct.fs[STATE_DB]) {
    ct.fs[STATE_DB] = { content: LIVE, mode: 0o600 };
  }
}

/** When a k3s server starts: a state.db replaced by a backup is loaded into its cluster. */
export function loadDatastore(s: LabState, loc: Located): void {
  ensureDatastoreFiles(loc.ct);
  const db = loc.ct.fs[STATE_DB];
  const cluster = loc.ct.k3s.dataCluster;
  if (!db || cluster === undefined || !db.content.startsWith(HEADER)) return;
  const snap = parseDatastoreCopy(db.content);
  if (snap) s.clusters[cluster] = snap.kube;
  db.content = LIVE;
}

/** When a k3s server stops: SQLite's file now holds the data (a copy taken now is consistent). */
export function saveDatastore(s: LabState, ct: ContainerState): void {
  const cluster = ct.k3s.dataCluster;
  if (cluster === undefined || datastoreKind(ct) !== 'sqlite' || !ct.fs[STATE_DB]) return;
  ct.fs[STATE_DB] = { content: datastoreCopy('sqlite', cluster, s.clusters[cluster]), mode: 0o600 };
}

/** The text of a consistent copy of a cluster's datastore (a state.db backup, an etcd snapshot). */
export function datastoreCopy(kind: 'sqlite' | 'etcd', cluster: string, kube: KubeCluster | undefined): string {
  return `${HEADER}${kind}\n${JSON.stringify({ cluster, kube: kube ?? { nodes: {}, pods: [], pdbs: [] } })}\n`;
}

export function parseDatastoreCopy(text: string): { kind: string; cluster: string; kube: KubeCluster } | undefined {
  if (!text.startsWith(HEADER)) return undefined;
  const nl = text.indexOf('\n');
  try {
    const body = JSON.parse(text.slice(nl + 1)) as { cluster: string; kube: KubeCluster };
    return { kind: text.slice(HEADER.length, nl), cluster: body.cluster, kube: body.kube };
  } catch {
    return undefined;
  }
}
