/**
 * The cluster as a finished run left it, for the final table, without a new probe: the facts
 * the plan was made from, with every node's view from the cluster replaced by the run's last
 * read (RunPlanResult.finalNodes, over the controller's session still open), and the installed
 * k3s of each node whose health gate this run passed: that gate saw its kubelet Ready at the
 * step's version after the restart, and a k3s node's kubelet is its k3s binary.
 */
import type { ClusterFacts } from '../../domain/facts.js';
import { tryParseVersion, type K3sVersion } from '../../domain/version.js';
import type { RunPlanResult } from './run-plan.js';

/** undefined when the run has no final read (it did not finish, the read failed, or the engine has none): probe again. */
export function factsAfterRun(
  before: ClusterFacts,
  result: Pick<RunPlanResult, 'ok' | 'completed' | 'finalNodes'>,
): ClusterFacts | undefined {
  const final = result.finalNodes;
  if (!result.ok || final === undefined) return undefined;
  const verified = new Map<string, K3sVersion>();
  for (const s of result.completed) {
    if (s.kind !== 'wait-ready') continue;
    const v = tryParseVersion(s.version);
    if (v) verified.set(s.node, v);
  }
  return {
    ...before,
    kubeError: undefined,
    nodes: before.nodes.map((n) => {
      const v = verified.get(n.name);
      return {
        ...n,
        ...(v ? { installed: v, installedError: undefined } : {}),
        kube: final.get(n.name),
      };
    }),
  };
}
