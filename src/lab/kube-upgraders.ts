/**
 * `kubectl get` of what the lab's cluster does not model otherwise: system-upgrade-controller
 * Plans (the CRD exists only once SUC is "installed") and Rancher's cluster agent deployment.
 */
import { readPolicyState } from './policy-state.js';
import { fail, ok } from './context.js';
import type { ExecResult } from './sh.js';
import type { LabState } from './types.js';

/** Undefined for kinds this file does not answer. */
export function kubectlGetExtra(
  s: LabState,
  { kind, names, namespace }: { kind: string; names: string[]; namespace: string | undefined },
): ExecResult | undefined {
  const p = readPolicyState(s);
  if (/^plans?(\.upgrade\.cattle\.io)?$/.test(kind)) {
    if (p.sucPlans === undefined) return fail(1, `error: the server doesn't have a resource type "${kind}"\n`);
    const items = p.sucPlans.map((id) => {
      const [ns, name] = id.split('/');
      return {
        apiVersion: 'upgrade.cattle.io/v1',
        kind: 'Plan',
        metadata: { name, namespace: ns },
        spec: { concurrency: 1, channel: 'https://update.k3s.io/v1-release/channels/stable' },
      };
    });
    return ok(`${JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4)}\n`);
  }
  if (/^(deployments?|deploy)(\.apps)?$/.test(kind)) {
    const deployments = p.rancher ? [{ ns: 'cattle-system', name: 'cattle-cluster-agent' }] : [];
    const found = deployments.filter((d) => (namespace ?? 'default') === d.ns && (names.length === 0 || names.includes(d.name)));
    const missing = names.filter((n) => !found.some((d) => d.name === n));
    if (missing.length > 0)
      return fail(1, missing.map((n) => `Error from server (NotFound): deployments.apps "${n}" not found\n`).join(''));
    const items = found.map((d) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: d.name, namespace: d.ns },
      spec: { replicas: 1 },
    }));
    return ok(
      `${JSON.stringify(names.length === 1 ? items[0] : { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4)}\n`,
    );
  }
  return undefined;
}
