/**
 * Health gates: after a node's install (or restart), it must pass every check before the run
 * uncordons it and goes on: the node Ready at the target kubelet version and its k3s running
 * (`systemctl is-active` in the container here; on a worker's first look the runner asks its
 * kubelet's /healthz through the apiserver instead, steps.ts); for a server also its own API answering
 * `/readyz`; with embedded etcd (several servers) its `/readyz/etcd` check and every server
 * node Ready (all members up).
 */
import type { Step } from '../../domain/plan.js';
import { ShellError } from '../../domain/errors.js';
import { KUBECTL } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';

const ONE = { singleLine: true };
import type { StepContext } from './steps.js';
import { SERVICE } from '../../k3s/install-config.js';

/** undefined when healthy, else what was last seen (for progress and the final message). */
export async function probeHealth(
  step: Step,
  ctx: StepContext,
  version: string = step.version,
  o: { nodeConfirmed?: boolean } = {},
): Promise<string | undefined> {
  const pct = ctx.pct(step.host);
  const svc = SERVICE[step.role];
  const opts = { signal: ctx.signal, timeoutMs: 30_000 };
  try {
    const a = await pct.exec(step.vmid, ['systemctl', 'is-active', svc], opts);
    const state = a.stdout.trim();
    if (a.code === 255) return `container ${step.vmid}: ${failureReason(a, ONE)}`;
    if (state !== 'active') return `service ${svc} is ${state || `unknown (exit ${a.code})`}`;
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return describe(err);
  }
  if (!o.nodeConfirmed) {
    let n;
    try {
      n = await ctx.kube.node(step.node, opts);
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      return `API not answering (${describe(err)})`;
    }
    if (n === undefined) return 'not registered in the cluster';
    if (!n.ready || n.kubeletVersionRaw !== version)
      return `${n.ready ? 'Ready' : 'NotReady'}, kubelet ${n.kubeletVersionRaw || 'unknown'}`;
  }
  if (step.role !== 'server') return undefined;
  const readyz = await pct.exec(step.vmid, [KUBECTL, 'get', '--raw', '/readyz'], opts);
  if (readyz.code !== 0 || readyz.stdout.trim() !== 'ok') return `Ready, but its API /readyz answers: ${failureReason(readyz, ONE)}`;
  const servers = ctx.inventory.nodes.filter((x) => x.role === 'server');
  if (servers.length < 2) return undefined;
  const etcd = await pct.exec(step.vmid, [KUBECTL, 'get', '--raw', '/readyz/etcd'], opts);
  if (etcd.code !== 0 || etcd.stdout.trim() !== 'ok') return `Ready, but its etcd check /readyz/etcd answers: ${failureReason(etcd, ONE)}`;
  const all = await ctx.kube.nodes(opts).catch((err: unknown) => err as Error);
  if (all instanceof Error) return `API not answering (${all.message})`;
  const down = servers.filter((s) => all.get(s.name)?.ready !== true).map((s) => s.name);
  if (down.length > 0) return `etcd members not Ready: ${down.join(', ')}`;
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof ShellError && err.unreachable) return `host ${err.host} unreachable`;
  return err instanceof Error ? err.message : String(err);
}
