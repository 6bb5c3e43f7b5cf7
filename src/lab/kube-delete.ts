/** `kubectl delete node <name>`: the node and the pods bound to it leave the cluster. */
import { fail, ok, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { KubeCluster } from './types.js';

export function kubectlDeleteNode(ctx: ExecContext, clusterId: string, rest: string[]): ExecResult {
  const [kind, name, ...more] = rest.filter((a) => a !== '--wait=true' && a !== '--wait');
  if ((kind !== 'node' && kind !== 'nodes' && kind !== 'no') || name === undefined || more.length > 0) {
    return fail(1, `error: the lab's kubectl does not support "kubectl delete ${rest.join(' ')}"\n`);
  }
  return ctx.store.update((s): ExecResult => {
    const cluster: KubeCluster | undefined = s.clusters[clusterId];
    if (!cluster?.nodes[name]) return fail(1, `Error from server (NotFound): nodes "${name}" not found\n`);
    delete cluster.nodes[name];
    cluster.pods = cluster.pods.filter((p) => p.node !== name);
    return ok(`node "${name}" deleted\n`);
  });
}
