/**
 * `kubectl wait` for nodes, as a watch: it blocks until the condition holds (checked as the
 * lab's state changes, every few ms), the timeout passes, or the apiserver goes away.
 * Supports `--for=condition=Ready` and `--for=jsonpath={.status.nodeInfo.kubeletVersion}=<v>`.
 */
import { apiCluster, findContainer, nodeView } from './k3s-model.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import { parseGoDuration } from './go-duration.js';
import type { ExecResult } from './sh.js';
import type { LabState } from './types.js';
import { catchUpSuc } from './suc-kubectl.js';

const TICK_MS = 5;
const REFUSED = 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n';

type Condition = { kind: 'condition'; name: string } | { kind: 'jsonpath'; path: string; value: string };

function parseFor(v: string): Condition | undefined {
  const c = /^condition=(\w+)$/i.exec(v);
  if (c) return { kind: 'condition', name: c[1]! };
  const j = /^jsonpath=\{?([^}=]+)\}?=(.+)$/.exec(v);
  if (j) return { kind: 'jsonpath', path: j[1]!.replace(/^'|'$/g, ''), value: j[2]! };
  return undefined;
}

export async function kubectlWait(ctx: ExecContext, ref: ContainerRef, args: string[]): Promise<ExecResult> {
  let cond: Condition | undefined;
  let timeoutMs = 30_000;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--for=')) cond = parseFor(a.slice(6));
    else if (a.startsWith('--timeout=')) timeoutMs = parseGoDuration(a.slice(10)) ?? NaN;
    else if (a === 'node' || a === 'nodes') {
      for (const n of args.slice(i + 1)) if (!n.startsWith('-')) names.push(`node/${n}`);
      break;
    } else if (/^(node|nodes)\/.+/.test(a)) names.push(a);
    else return fail(1, `error: the lab's kubectl wait does not support "${a}"\n`);
  }
  if (!cond) return fail(1, 'error: --for must be condition=<name> or jsonpath={<path>}=<value>\n');
  if (!Number.isFinite(timeoutMs)) return fail(1, 'error: invalid --timeout\n');
  if (names.length !== 1) return fail(1, "error: the lab's kubectl wait supports exactly one node\n");
  const name = names[0]!.split('/')[1]!;
  const deadline = ctx.now() + timeoutMs;
  for (;;) {
    syncSuc(ctx, ref);
    const s = ctx.store.read();
    const now = ctx.now();
    const loc = findContainer(s, ref.host, ref.vmid);
    const clusterId = loc ? apiCluster(s, loc.ct, now) : undefined;
    if (clusterId === undefined) return fail(1, REFUSED);
    const node = s.clusters[clusterId]?.nodes[name];
    if (!node) return fail(1, `Error from server (NotFound): nodes "${name}" not found\n`);
    const view = nodeView({ s, clusterId, now }, node);
    const met =
      cond.kind === 'condition'
        ? cond.name.toLowerCase() === 'ready' && view.ready === 'True'
        : cond.path === '.status.nodeInfo.kubeletVersion' && view.kubelet === cond.value;
    if (met) return ok(`node/${name} condition met\n`);
    if (now >= deadline) return fail(1, `error: timed out waiting for the condition on nodes/${name}\n`);
    // A watch hears of a change at once: wake at the node's next timed change (its service
    // up, then Ready) if that comes before the next look at the state.
    await ctx.sleep(Math.max(0, Math.min(TICK_MS, deadline - now, nextChange(s, node, now) - now)));
  }
}

/** system-upgrade-controller works on while kubectl waits: catch it up before each look. */
function syncSuc(ctx: ExecContext, ref: ContainerRef): void {
  const s = ctx.store.read();
  const loc = findContainer(s, ref.host, ref.vmid);
  const clusterId = loc ? apiCluster(s, loc.ct, ctx.now()) : undefined;
  if (clusterId !== undefined) catchUpSuc(ctx, clusterId);
}

/** When this node's container next changes by the clock alone (a service half-way up, or Ready); Infinity if never. */
function nextChange(s: LabState, { host, vmid }: ContainerRef, now: number): number {
  const ct = findContainer(s, host, vmid)?.ct;
  let next = Infinity;
  for (const svc of Object.values(ct?.k3s.services ?? {})) {
    if (!svc?.running) continue;
    for (const t of [svc.startedAt + s.timing.restartMs / 2, svc.startedAt + s.timing.restartMs]) if (t > now && t < next) next = t;
  }
  return next;
}
