/**
 * `/usr/local/bin/k3s` in a container: `--version`, the `kubectl` multi-call, `k3s etcd-snapshot
 * save [--name N]` (into db/snapshots, named `<N>-<node>-<unix>`) and `k3s server --cluster-reset
 * [--cluster-reset-restore-path=F]` with k3s stopped (loads the snapshot into the cluster).
 */
import { createHash } from 'node:crypto';
import { datastoreCopy, datastoreKind, ensureDatastoreFiles, parseDatastoreCopy, SNAPSHOT_DIR } from './datastore.js';
import { findContainer } from './k3s-model.js';
import { runKubectl } from './kubectl.js';
import { readFile, writeFile } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

const GO_BY_MINOR: Record<number, string> = { 30: 'go1.22.12', 31: 'go1.23.12', 32: 'go1.23.12', 33: 'go1.24.6', 34: 'go1.24.6' };

export function runK3s(ctx: ExecContext, ref: ContainerRef, args: string[]): Promise<ExecResult> | ExecResult {
  if (args[0] === '--version' || args[0] === '-v' || args[0] === 'version') {
    const version = findContainer(ctx.store.read(), ref.host, ref.vmid)?.ct.k3s.binaryVersion ?? '';
    const commit = createHash('sha1').update(version).digest('hex').slice(0, 8);
    const minor = Number(/^v1\.(\d+)\./.exec(version)?.[1] ?? 0);
    return ok(`k3s version ${version} (${commit})\ngo version ${GO_BY_MINOR[minor] ?? 'go1.24.6'}\n`);
  }
  if (args[0] === 'kubectl') return runKubectl(ctx, ref, { argv: args.slice(1) });
  if (args[0] === 'etcd-snapshot') return etcdSnapshot(ctx, ref, args.slice(1));
  if (args[0] === 'server' && args.includes('--cluster-reset')) return clusterReset(ctx, ref, args.slice(1));
  return fail(1, `k3s: the lab does not model "k3s ${args.join(' ')}"\n`);
}

function etcdSnapshot(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const [verb, ...rest] = args;
  if (verb !== 'save') return fail(1, `k3s: the lab models only "k3s etcd-snapshot save [--name N]"\n`);
  const ni = rest.indexOf('--name');
  const name = ni >= 0 ? (rest[ni + 1] ?? 'on-demand') : (rest.find((a) => a.startsWith('--name='))?.slice(7) ?? 'on-demand');
  const now = ctx.now();
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    const svc = ct.k3s.services.k3s;
    if (!svc || datastoreKind(ct) !== 'etcd')
      return fail(1, 'time="" level=fatal msg="etcd database not found in /var/lib/rancher/k3s/server"\n');
    if (!svc.running) return fail(1, 'time="" level=fatal msg="failed to get etcd client: etcd is not running"\n');
    ensureDatastoreFiles(ct);
    const file = `${name}-${ct.hostname}-${Math.floor(now / 1000)}`;
    writeFile(ct.fs, `${SNAPSHOT_DIR}/${file}`, { content: datastoreCopy('etcd', svc.cluster, s.clusters[svc.cluster]), mode: 0o600 });
    return fail(0, `time="${new Date(now).toISOString()}" level=info msg="Snapshot ${file} saved."\n`);
  });
}

function clusterReset(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const pathArg =
    args.find((a) => a.startsWith('--cluster-reset-restore-path='))?.slice('--cluster-reset-restore-path='.length) ??
    (args.indexOf('--cluster-reset-restore-path') >= 0 ? args[args.indexOf('--cluster-reset-restore-path') + 1] : undefined);
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    if (ct.k3s.services.k3s?.running)
      return fail(
        1,
        'level=fatal msg="starting kubernetes: preparing server: etcd: listen tcp 127.0.0.1:2380: bind: address already in use"\n',
      );
    const cluster = ct.k3s.dataCluster;
    if (cluster === undefined || datastoreKind(ct) !== 'etcd') return fail(1, 'level=fatal msg="--cluster-reset requires embedded etcd"\n');
    if (pathArg !== undefined) {
      const f = readFile(ct.fs, pathArg);
      if (!('content' in f)) return fail(1, `level=fatal msg="failed to restore snapshot: open ${pathArg}: no such file or directory"\n`);
      const snap = parseDatastoreCopy(f.content);
      if (!snap || snap.kind !== 'etcd')
        return fail(1, `level=fatal msg="failed to restore snapshot: ${pathArg}: snapshot file has wrong format"\n`);
      s.clusters[cluster] = snap.kube;
    }
    return fail(
      0,
      'level=info msg="Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes"\n',
    );
  });
}
