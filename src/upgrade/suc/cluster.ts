/**
 * What `upgrade --engine suc` needs of the cluster before it plans: system-upgrade-controller
 * installed (its Plan CRD and its Deployment, at least v0.15 for `window` and
 * `postCompleteDelay`), no Rancher managing the cluster (Rancher owns the Plans of the clusters
 * it manages), and no Plans but ours (two sets of Plans fight over the nodes). One round trip.
 */
import { RunError } from '../../domain/errors.js';
import { parseJsonOutput } from '../../kube/nodes.js';
import type { Kube } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';
import type { RunResult } from '../../shell/shell.js';
import { SUC_NAMESPACE } from './plans.js';

export const SUC_DEPLOYMENT = 'system-upgrade-controller';
export const SUC_CRD = 'plans.upgrade.cattle.io';
/** The oldest SUC with what the Plans may use (window, postCompleteDelay: v0.15.0). */
export const MIN_SUC_VERSION = 'v0.15.0';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

export interface SucCluster {
  version: string;
  /** Our Plans left in the cluster (`namespace/name`), by an unfinished run. */
  ours: string[];
}

const ARGV = {
  crd: ['get', 'customresourcedefinitions.apiextensions.k8s.io', SUC_CRD, '-o', 'json'],
  deploy: ['get', 'deployments.apps', '-n', SUC_NAMESPACE, '-o', 'json'],
  rancher: ['get', 'deployments.apps', '-n', 'cattle-system', '-o', 'json'],
  plans: ['get', 'plans.upgrade.cattle.io', '-A', '-o', 'json'],
} as const;

const notFound = (r: RunResult) => /\(NotFound\)|doesn't have a resource type|No resources found/.test(r.stderr);

interface Item {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } };
}

function items(r: RunResult): Item[] {
  if (r.code !== 0) return [];
  const doc = parseJsonOutput(r.stdout) as { items?: Item[] } | undefined;
  return Array.isArray(doc?.items) ? doc.items : [];
}

/** `v0.16.3` from `rancher/system-upgrade-controller:v0.16.3`; undefined when the tag is not a version. */
export function imageVersion(image: string): string | undefined {
  return /:(v\d+\.\d+\.\d+)(?:[-+@].*)?$/.exec(image)?.[1];
}

/** a < b for vX.Y.Z. */
export function olderThan(a: string, b: string): boolean {
  const n = (v: string) => v.replace(/^v/, '').split('.').map(Number);
  const [x, y] = [n(a), n(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

/** Refuses unless SUC is installed and the cluster is ours to upgrade through it; returns SUC's version and our leftover Plans. */
export async function checkSucCluster(kube: Kube, cluster: string, signal?: AbortSignal): Promise<SucCluster> {
  const [crd, deploy, rancher, plans] = await kube.batch([ARGV.crd, ARGV.deploy, ARGV.rancher, ARGV.plans], {
    signal,
    timeoutMs: 60_000,
  });
  const install =
    'install it with `pve-k3s suc install` (a pinned SUC release, from its URL or an air-gap file), or upgrade over SSH: `pve-k3s upgrade`';
  for (const [r, argv] of [
    [crd, ARGV.crd],
    [deploy, ARGV.deploy],
    [rancher, ARGV.rancher],
  ] as const) {
    if (r && r.code !== 0 && !notFound(r)) throw kube.error(argv, r);
  }
  const agent = items(rancher!).map((i) => i.metadata?.name ?? '');
  if (agent.length > 0)
    throw new RunError(
      `Rancher manages cluster ${cluster} (deployment cattle-system/${agent[0]}): Rancher owns the system-upgrade-controller Plans of the clusters it manages`,
      { hint: 'upgrade it from Rancher (Cluster Management > Edit Config > Kubernetes Version), not with pve-k3s --engine suc' },
    );
  if (crd!.code !== 0)
    throw new RunError(`system-upgrade-controller is not installed in cluster ${cluster}: the CRD ${SUC_CRD} is missing`, {
      hint: install,
    });
  const controller = items(deploy!).find((i) => i.metadata?.name === SUC_DEPLOYMENT);
  if (!controller)
    throw new RunError(
      `system-upgrade-controller is not installed in cluster ${cluster}: no deployment ${SUC_NAMESPACE}/${SUC_DEPLOYMENT} (the CRD ${SUC_CRD} is there)`,
      { hint: install },
    );
  const image = controller.spec?.template?.spec?.containers?.[0]?.image ?? '';
  const version = imageVersion(image);
  if (version === undefined || olderThan(version, MIN_SUC_VERSION))
    throw new RunError(
      `system-upgrade-controller in cluster ${cluster} is ${version ?? `of unknown version (image ${image || 'none'})`}: pve-k3s needs ${MIN_SUC_VERSION} or newer`,
      { hint: 'upgrade it with `pve-k3s suc install` (it applies a pinned newer release), or upgrade over SSH: `pve-k3s upgrade`' },
    );
  if (plans!.code !== 0) throw kube.error(ARGV.plans, plans!, { detail: failureReason(plans!) });
  const all = items(plans!);
  const mine = (i: Item) => i.metadata?.labels?.[MANAGED_BY] === 'pve-k3s' && i.metadata.labels['pve-k3s.io/cluster'] === cluster;
  const foreign = all.filter((i) => !mine(i)).map((i) => `${i.metadata?.namespace ?? ''}/${i.metadata?.name ?? ''}`);
  if (foreign.length > 0)
    throw new RunError(`system-upgrade-controller Plans not written by pve-k3s are in cluster ${cluster}: ${foreign.join(', ')}`, {
      hint: 'two sets of Plans fight over the nodes: delete them first (kubectl delete plans.upgrade.cattle.io -n <namespace> <name>), or let them do the upgrade',
    });
  return { version, ours: all.filter(mine).map((i) => `${i.metadata?.namespace ?? ''}/${i.metadata?.name ?? ''}`) };
}
