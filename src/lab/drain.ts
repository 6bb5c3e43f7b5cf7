/**
 * `kubectl drain` with kubectl's semantics and messages (k8s.io/kubectl/pkg/drain): cordon,
 * filter pods (DaemonSet, local storage, no controller), then evict (PDBs make it retry until
 * --timeout) or, with --disable-eviction, delete. Evicted controller pods come back elsewhere.
 */
import { formatGoDuration, parseGoDuration } from './go-duration.js';
import { healthyPods } from './kube-render.js';
import { nodeReady, type ClusterAt } from './k3s-model.js';
import { suffix } from './ids.js';
import { fail, type ExecContext } from './context.js';
import { Output, type ExecResult } from './sh.js';
import type { KubeCluster, Pod } from './types.js';

const EVICT_RETRY_MS = 5000;

interface DrainFlags {
  node: string;
  ignoreDaemonsets: boolean;
  deleteEmptydir: boolean;
  disableEviction: boolean;
  force: boolean;
  timeoutMs: number;
}

const BOOL_FLAGS = ['ignore-daemonsets', 'delete-emptydir-data', 'delete-local-data', 'disable-eviction', 'force'];
const VALUE_FLAGS = ['timeout', 'grace-period', 'skip-wait-for-delete-timeout'];

function parseFlags(args: string[]): DrainFlags | string {
  const f: DrainFlags = { node: '', ignoreDaemonsets: false, deleteEmptydir: false, disableEviction: false, force: false, timeoutMs: 0 };
  const nodes: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('--')) {
      nodes.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    let value = eq < 0 ? undefined : a.slice(eq + 1);
    if (BOOL_FLAGS.includes(name)) {
      if (value !== undefined && value !== 'true' && value !== 'false')
        return `error: invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`;
      const on = value !== 'false';
      if (name === 'ignore-daemonsets') f.ignoreDaemonsets = on;
      else if (name === 'delete-emptydir-data' || name === 'delete-local-data') f.deleteEmptydir = on;
      else if (name === 'disable-eviction') f.disableEviction = on;
      else f.force = on;
      continue;
    }
    if (!VALUE_FLAGS.includes(name)) return `error: unknown flag: --${name}\nSee 'kubectl drain --help' for usage.`;
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) return `error: flag needs an argument: --${name}\nSee 'kubectl drain --help' for usage.`;
    }
    if (name === 'timeout') {
      const ms = parseGoDuration(value);
      if (ms === undefined) return `error: invalid argument "${value}" for "--timeout" flag: time: invalid duration "${value}"`;
      f.timeoutMs = ms;
    } else if (!/^-?\d+$/.test(value)) {
      return `error: invalid argument "${value}" for "--${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`;
    }
  }
  if (nodes.length !== 1 || !nodes[0]) return "error: USAGE: drain NODE [flags]\nSee 'kubectl drain -h' for help and examples";
  f.node = nodes[0];
  return f;
}

type Verdict =
  { kind: 'delete' } | { kind: 'skip'; warning?: string } | { kind: 'warn'; warning: string } | { kind: 'fatal'; message: string };

/** filterPods(): the last filter's verdict wins, as in kubectl (a warning can be overwritten). */
function verdict(p: Pod, f: DrainFlags): Verdict {
  if (p.owner?.kind === 'DaemonSet') {
    return f.ignoreDaemonsets
      ? { kind: 'skip', warning: 'ignoring DaemonSet-managed Pods' }
      : { kind: 'fatal', message: 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)' };
  }
  if (p.emptyDir && !f.deleteEmptydir)
    return { kind: 'fatal', message: 'Pods with local storage (use --delete-emptydir-data to override)' };
  // The local-storage warning is overwritten by the next filter's verdict, as upstream.
  if (!p.owner)
    return f.force
      ? { kind: 'warn', warning: 'deleting Pods that declare no controller' }
      : { kind: 'fatal', message: 'Pods that declare no controller (use --force to override)' };
  return { kind: 'delete' };
}

/** Go's utilerrors.Aggregate: one error as itself, several (deduplicated) as `[a, b]`. */
function aggregate(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}

/**
 * What kubectl prints when the drain of the node failed with `errors`: pkg/cmd/drain's
 * RunDrain line, the pending nodes, then cmdutil.CheckErr's message (`error: <it>` for one
 * error; several, one per line as MultipleErrors prints them).
 */
function drainFailed(o: Output, node: string, errors: readonly string[]): void {
  o.err(`error: unable to drain node "${node}" due to error: ${aggregate(errors)}, continuing command...\n`);
  o.err(`There are pending nodes to be drained:\n ${node}\n`);
  const unique = [...new Set(errors)];
  o.err(unique.length === 1 ? `error: ${unique[0] ?? ''}\n` : unique.map((e) => `${e}\n`).join(''));
}

/**
 * kubectl drain, in kubectl's order on its two streams (pkg/cmd/drain, pkg/drain): the cordon
 * (stdout), the filters' warnings (stderr), then each pod: `evicting pod ns/name` (stdout) at
 * every attempt, a PDB refusal and its retry (stderr), `pod/name evicted` or `deleted` (stdout)
 * once gone; then `node/x drained` (stdout), or the failure lines (stderr).
 */
export async function runDrain(ctx: ExecContext, clusterId: string, args: string[]): Promise<ExecResult> {
  const flags = parseFlags(args);
  if (typeof flags === 'string') return fail(1, `${flags}\n`);
  const o = new Output();
  const now = ctx.now();
  const cordon = ctx.store.update((s) => {
    const node = s.clusters[clusterId]?.nodes[flags.node];
    if (!node) return undefined;
    const already = node.unschedulable;
    node.unschedulable = true;
    node.unschedulableSince ??= now;
    return already;
  });
  if (cordon === undefined) return fail(1, `Error from server (NotFound): nodes "${flags.node}" not found\n`);
  o.out(`node/${flags.node} ${cordon ? 'already cordoned' : 'cordoned'}\n`);

  const cluster = ctx.store.read().clusters[clusterId];
  const onNode = (cluster?.pods ?? []).filter((p) => p.node === flags.node);
  const fatal = new Map<string, string[]>();
  const warnings = new Map<string, string[]>();
  const toRemove: Pod[] = [];
  for (const p of onNode) {
    const v = verdict(p, flags);
    const id = `${p.namespace}/${p.name}`;
    if (v.kind === 'fatal') fatal.set(v.message, [...(fatal.get(v.message) ?? []), id]);
    if ((v.kind === 'skip' || v.kind === 'warn') && v.warning) warnings.set(v.warning, [...(warnings.get(v.warning) ?? []), id]);
    if (v.kind === 'delete' || v.kind === 'warn') toRemove.push(p);
  }
  if (fatal.size > 0) {
    drainFailed(
      o,
      flags.node,
      [...fatal].map(([m, pods]) => `cannot delete ${m}: ${pods.join(', ')}`),
    );
    return o.result(1);
  }
  if (warnings.size > 0) o.err(`Warning: ${[...warnings].map(([m, pods]) => `${m}: ${pods.join(', ')}`).join('; ')}\n`);

  const deadline = flags.timeoutMs > 0 ? now + flags.timeoutMs : Infinity;
  const errors: string[] = [];
  // Every eviction starts at once (one goroutine per pod), so each first attempt is printed first.
  if (!flags.disableEviction) for (const p of toRemove) o.out(`evicting pod ${p.namespace}/${p.name}\n`);
  for (const p of toRemove) {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        o.out(`evicting pod ${p.namespace}/${p.name}\n`);
        if (ctx.now() >= deadline) {
          errors.push(
            `error when evicting pods/"${p.name}" -n "${p.namespace}": global timeout reached: ${formatGoDuration(flags.timeoutMs)}`,
          );
          break;
        }
      }
      const blocked = ctx.store.update((s) => removePod({ s, clusterId, now: ctx.now() }, p, flags));
      if (!blocked) {
        const ms = ctx.store.read().timing.drainPerPodMs;
        ctx.meter?.('drain', ms);
        await ctx.sleep(ms);
        o.out(`pod/${p.name} ${flags.disableEviction ? 'deleted' : 'evicted'}\n`);
        break;
      }
      o.err(
        `error when evicting pods/"${p.name}" -n "${p.namespace}" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\n`,
      );
      await ctx.sleep(Math.max(0, Math.min(EVICT_RETRY_MS, deadline - ctx.now())));
    }
  }
  if (errors.length > 0) {
    const pending = (ctx.store.read().clusters[clusterId]?.pods ?? []).filter(
      (p) => p.node === flags.node && verdict(p, flags).kind !== 'skip',
    );
    if (pending.length > 0)
      o.err(
        `There are pending pods in node "${flags.node}" when an error occurred: ${aggregate(errors)}\n${pending.map((p) => `pod/${p.name}\n`).join('')}`,
      );
    drainFailed(o, flags.node, errors);
    return o.result(1);
  }
  o.out(`node/${flags.node} drained\n`);
  return o.result(0);
}

/** Evicts or deletes one pod; returns true when a PodDisruptionBudget blocks the eviction. */
function removePod(at: ClusterAt, target: Pod, flags: DrainFlags): boolean {
  const cluster = at.s.clusters[at.clusterId];
  if (!cluster) return false;
  const idx = cluster.pods.findIndex((p) => p.uid === target.uid);
  const pod = cluster.pods[idx];
  if (!pod) return false; // already gone: kubectl treats NotFound as done
  if (!flags.disableEviction) {
    for (const b of cluster.pdbs) {
      if (b.namespace !== pod.namespace || b.app !== pod.app) continue;
      const healthy = healthyPods(at, cluster, b);
      const node = cluster.nodes[pod.node];
      const podHealthy = node !== undefined && nodeReady(at, node);
      if ((podHealthy ? healthy - 1 : healthy) < b.minAvailable) return true;
    }
  }
  cluster.pods.splice(idx, 1);
  if (pod.owner && pod.owner.kind !== 'DaemonSet') {
    const name = pod.owner.kind === 'ReplicaSet' ? `${pod.owner.name}-${suffix()}` : pod.name;
    cluster.pods.push({
      ...pod,
      name,
      node: pickNode(at, cluster, pod.node),
      createdAt: at.now,
      uid: `${pod.uid.slice(0, 24)}${suffix(12)}`,
    });
  }
  return false;
}

/** The scheduler: the schedulable Ready node with the fewest pods, '' (Pending) when none. */
export function pickNode(at: ClusterAt, cluster: KubeCluster, avoid = ''): string {
  const candidates = Object.values(cluster.nodes).filter((n) => n.name !== avoid && !n.unschedulable && nodeReady(at, n));
  const load = (name: string) => cluster.pods.filter((p) => p.node === name).length;
  candidates.sort((a, b) => load(a.name) - load(b.name) || a.name.localeCompare(b.name));
  return candidates[0]?.name ?? '';
}
