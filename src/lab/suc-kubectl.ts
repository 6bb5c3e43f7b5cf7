/**
 * The lab's kubectl for what system-upgrade-controller brings (suc-controller.ts): `apply -f -`
 * of Plans and of SUC's release manifests (CRD, namespace, RBAC, Deployment), `get` of Plans,
 * Jobs, the CRD and SUC's Deployment (`-o json`), `delete plans`, `logs job/<name>`, `label
 * node`, and `wait --for=condition=Complete|Failed job/<name>`; answered as kubectl answers.
 * Every call first catches the controller up to now, so Plans move on while nobody looks.
 */
import { fail, ok, type ExecContext } from './context.js';
import { parseGoDuration } from './go-duration.js';
import { listJson, nodeJson } from './kube-render.js';
import { uid } from './ids.js';
import { ensureSuc, LAB_SUC_VERSION, nextSucEvent, reconcileSuc, SUC_NAMESPACE } from './suc-controller.js';
import type { ExecResult } from './sh.js';
import type { KubeCluster, LabState, LabSuc, LabSucJob, LabSucPlan, LabSucStage } from './types.js';

const PLAN_KINDS = /^plans?(\.upgrade\.cattle\.io)?$/;
const JOB_KINDS = /^(jobs?(\.batch)?)$/;
const CRD_KINDS = /^(crds?|customresourcedefinitions?(\.apiextensions\.k8s\.io)?)$/;
const DEPLOY_KINDS = /^(deployments?|deploy)(\.apps)?$/;
export const PLAN_CRD = 'plans.upgrade.cattle.io';
export const SUC_DEPLOYMENT = 'system-upgrade-controller';
const WAIT_LOOK_MS = 1000;

/** Catches the SUC controller of `clusterId` up to now (a write only when it has work). */
export function catchUpSuc(ctx: ExecContext, clusterId: string): void {
  const s = ctx.store.read();
  const suc = s.clusters[clusterId]?.suc;
  const now = ctx.now();
  if (!suc?.deployment || suc.at >= now || (suc.plans.length === 0 && suc.jobs.length === 0)) return;
  ctx.store.update((st) => reconcileSuc(st, clusterId, now));
}

/** When the SUC controller next changes something by the clock alone (Infinity if never). */
export function nextSucChange(s: LabState, clusterId: string): number {
  return nextSucEvent(s, clusterId) ?? Infinity;
}

interface Args {
  positional: string[];
  namespace: string | undefined;
  allNamespaces: boolean;
  selector: string | undefined;
  output: string | undefined;
  container: string | undefined;
  allContainers: boolean;
  overwrite: boolean;
  file: string | undefined;
  forCond: string | undefined;
  timeout: string | undefined;
  bad: string | undefined;
}

function parseArgs(args: readonly string[]): Args {
  const a: Args = {
    positional: [],
    namespace: undefined,
    allNamespaces: false,
    selector: undefined,
    output: undefined,
    container: undefined,
    allContainers: false,
    overwrite: false,
    file: undefined,
    forCond: undefined,
    timeout: undefined,
    bad: undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const x = args[i] ?? '';
    const value = (long: string): string | undefined => (x.startsWith(`${long}=`) ? x.slice(long.length + 1) : undefined);
    if (x === '-n' || x === '--namespace') a.namespace = args[++i];
    else if (value('--namespace') !== undefined) a.namespace = value('--namespace');
    else if (x === '-A' || x === '--all-namespaces') a.allNamespaces = true;
    else if (x === '-l' || x === '--selector') a.selector = args[++i];
    else if (value('--selector') !== undefined) a.selector = value('--selector');
    else if (x === '-o' || x === '--output') a.output = args[++i];
    else if (value('--output') !== undefined || value('-o') !== undefined) a.output = value('--output') ?? value('-o');
    else if (x === '-c' || x === '--container') a.container = args[++i];
    else if (value('--container') !== undefined) a.container = value('--container');
    else if (x === '--all-containers' || x === '--all-containers=true') a.allContainers = true;
    else if (x === '--overwrite' || x === '--overwrite=true') a.overwrite = true;
    else if (x === '-f' || x === '--filename') a.file = args[++i];
    else if (value('--for') !== undefined) a.forCond = value('--for');
    else if (value('--timeout') !== undefined) a.timeout = value('--timeout');
    else if (x.startsWith('-')) a.bad = x;
    else a.positional.push(x);
  }
  return a;
}

/** Answers the kubectl calls about SUC's objects; undefined for everything else (after catching the controller up). */
export async function sucKubectl(
  ctx: ExecContext,
  clusterId: string,
  { args, stdin }: { args: readonly string[]; stdin: string },
): Promise<ExecResult | undefined> {
  catchUpSuc(ctx, clusterId);
  const [verb, ...rest] = args;
  const a = parseArgs(rest);
  const kind = (a.positional[0] ?? '').split('/')[0] ?? '';
  switch (verb) {
    case 'apply':
      return a.file === '-' ? apply(ctx, clusterId, stdin) : undefined;
    case 'get':
      if (PLAN_KINDS.test(kind) && sucOf(ctx, clusterId)?.crd) return getPlans(ctx, clusterId, a);
      if (JOB_KINDS.test(kind)) return getJobs(ctx, clusterId, a);
      if (CRD_KINDS.test(kind)) return getCrd(ctx, clusterId, a);
      if (DEPLOY_KINDS.test(kind) && a.namespace === SUC_NAMESPACE) return getDeployment(ctx, clusterId, a);
      if (/^(nodes?|no)$/.test(kind) && a.selector !== undefined) return getNodesBySelector(ctx, clusterId, a);
      return undefined;
    case 'delete':
      if (JOB_KINDS.test(kind)) return deleteJobs(ctx, clusterId, a);
      return PLAN_KINDS.test(kind) ? deletePlans(ctx, clusterId, a) : undefined;
    case 'annotate':
      return PLAN_KINDS.test(kind) ? annotatePlan(ctx, clusterId, a) : undefined;
    case 'logs':
      return logs(ctx, clusterId, a);
    case 'label':
      return label(ctx, clusterId, a);
    case 'wait':
      return JOB_KINDS.test(kind) ? waitJob(ctx, clusterId, a) : undefined;
    default:
      return undefined;
  }
}

function sucOf(ctx: ExecContext, clusterId: string): LabSuc | undefined {
  return ctx.store.read().clusters[clusterId]?.suc;
}

const time = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');

function noType(kind: string): ExecResult {
  return fail(1, `error: the server doesn't have a resource type "${kind}"\n`);
}

function onlyJson(a: Args, verb = 'get'): ExecResult | undefined {
  if (a.bad) return fail(1, `error: unknown flag: ${a.bad}\nSee 'kubectl ${verb} --help' for usage.\n`);
  if (a.output !== 'json') return fail(1, `error: the lab's kubectl supports only -o json here (got "${a.output ?? 'table'}")\n`);
  return undefined;
}

// ---- apply ----------------------------------------------------------------------------------

interface Obj {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown };
  spec?: unknown;
  items?: unknown;
}

async function parseObjects(stdin: string): Promise<Obj[] | string> {
  if (stdin.trim() === '') return 'error: no objects passed to apply\n';
  let docs: unknown[];
  try {
    docs = [JSON.parse(stdin) as unknown];
  } catch {
    try {
      const { parseAllDocuments } = await import('yaml');
      docs = parseAllDocuments(stdin).map((d) => d.toJS() as unknown);
    } catch (e) {
      return `error: error parsing STDIN: ${(e as Error).message.split('\n')[0] ?? ''}\n`;
    }
  }
  const out: Obj[] = [];
  for (const d of docs) {
    if (d === null || d === undefined) continue;
    if (typeof d !== 'object' || Array.isArray(d)) return 'error: error validating "STDIN": not a Kubernetes object\n';
    const o = d as Obj;
    if (o.kind === 'List' && Array.isArray(o.items)) out.push(...(o.items as Obj[]));
    else out.push(o);
  }
  return out;
}

/** What `kubectl apply` calls each kind (`<resource>.<group>/<name>`). */
const RESOURCE: Record<string, string> = {
  Namespace: 'namespace',
  ServiceAccount: 'serviceaccount',
  ClusterRole: 'clusterrole.rbac.authorization.k8s.io',
  ClusterRoleBinding: 'clusterrolebinding.rbac.authorization.k8s.io',
  Role: 'role.rbac.authorization.k8s.io',
  RoleBinding: 'rolebinding.rbac.authorization.k8s.io',
  ConfigMap: 'configmap',
  Secret: 'secret',
  Deployment: 'deployment.apps',
  CustomResourceDefinition: 'customresourcedefinition.apiextensions.k8s.io',
  Plan: 'plan.upgrade.cattle.io',
};

async function apply(ctx: ExecContext, clusterId: string, stdin: string): Promise<ExecResult> {
  const objs = await parseObjects(stdin);
  if (typeof objs === 'string') return fail(1, objs);
  const now = ctx.now();
  return ctx.store.update((s): ExecResult => {
    const cluster = s.clusters[clusterId];
    if (!cluster) return fail(1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n');
    const suc = ensureSuc(cluster, now);
    reconcileSuc(s, clusterId, now);
    const applied = (suc.applied ??= {});
    let stdout = '';
    let stderr = '';
    for (const o of objs) {
      const kind = typeof o.kind === 'string' ? o.kind : '';
      const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '';
      const resource = RESOURCE[kind];
      if (!resource) {
        stderr += `error: resource mapping not found for name: "${name}" namespace: "" from "STDIN": no matches for kind "${kind}" in version "${String(o.apiVersion)}"\nensure CRDs are installed first\n`;
        continue;
      }
      if (kind === 'Plan') {
        if (!suc.crd) {
          stderr += `error: resource mapping not found for name: "${name}" namespace: "${String(o.metadata?.namespace ?? '')}" from "STDIN": no matches for kind "Plan" in version "upgrade.cattle.io/v1"\nensure CRDs are installed first\n`;
          continue;
        }
        stdout += `${resource}/${name} ${applyPlan(suc, o, now)}\n`;
        continue;
      }
      const key = `${kind}/${String(o.metadata?.namespace ?? '')}/${name}`;
      const body = JSON.stringify(o);
      const verb = applied[key] === undefined ? 'created' : applied[key] === body ? 'unchanged' : 'configured';
      applied[key] = body;
      if (kind === 'CustomResourceDefinition' && name === PLAN_CRD) suc.crd = true;
      if (kind === 'Deployment' && name === SUC_DEPLOYMENT) {
        const image = deploymentImage(o);
        const version = /:(v[0-9][^@\s]*)$/.exec(image)?.[1] ?? LAB_SUC_VERSION;
        suc.deployment = { version, createdAt: suc.deployment?.createdAt ?? now };
        suc.at = now;
      }
      stdout += `${resource}/${name} ${verb}\n`;
    }
    reconcileSuc(s, clusterId, now);
    return { code: stderr === '' ? 0 : 1, stdout, stderr };
  });
}

function deploymentImage(o: Obj): string {
  const spec = o.spec as { template?: { spec?: { containers?: Array<{ image?: unknown }> } } } | undefined;
  const image = spec?.template?.spec?.containers?.[0]?.image;
  return typeof image === 'string' ? image : '';
}

function applyPlan(suc: LabSuc, o: Obj, now: number): 'created' | 'configured' | 'unchanged' {
  const name = String(o.metadata?.name ?? '');
  const namespace = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : 'default';
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const labels = (o.metadata?.labels ?? {}) as Record<string, string>;
  const annotations = (o.metadata?.annotations ?? {}) as Record<string, string>;
  const existing = suc.plans.find((p) => p.namespace === namespace && p.name === name);
  if (!existing) {
    suc.plans.push({
      namespace,
      name,
      uid: uid(),
      createdAt: now,
      generation: 1,
      resourceVersion: 1,
      labels,
      annotations,
      spec,
      status: { conditions: [] },
    });
    return 'created';
  }
  const same =
    JSON.stringify(existing.spec) === JSON.stringify(spec) &&
    JSON.stringify(existing.labels) === JSON.stringify(labels) &&
    JSON.stringify(existing.annotations) === JSON.stringify(annotations);
  if (same) return 'unchanged';
  if (JSON.stringify(existing.spec) !== JSON.stringify(spec)) existing.generation++;
  Object.assign(existing, { spec, labels, annotations });
  existing.resourceVersion++;
  return 'configured';
}

// ---- get ------------------------------------------------------------------------------------

export function planJson(p: LabSucPlan): Record<string, unknown> {
  const status: Record<string, unknown> = {
    conditions: p.status.conditions.map((c) => ({
      lastTransitionTime: time(c.lastTransitionTime),
      lastUpdateTime: time(c.lastUpdateTime),
      ...(c.message !== '' ? { message: c.message } : {}),
      reason: c.reason,
      status: c.status,
      type: c.type,
    })),
  };
  if (p.status.applying && p.status.applying.length > 0) status.applying = p.status.applying;
  if (p.status.latestHash !== undefined) status.latestHash = p.status.latestHash;
  if (p.status.latestVersion !== undefined) status.latestVersion = p.status.latestVersion;
  return {
    apiVersion: 'upgrade.cattle.io/v1',
    kind: 'Plan',
    metadata: {
      ...(Object.keys(p.annotations).length > 0 ? { annotations: p.annotations } : {}),
      creationTimestamp: time(p.createdAt),
      generation: p.generation,
      ...(Object.keys(p.labels).length > 0 ? { labels: p.labels } : {}),
      name: p.name,
      namespace: p.namespace,
      resourceVersion: String(p.resourceVersion),
      uid: p.uid,
    },
    spec: p.spec,
    status,
  };
}

export function jobJson(j: LabSucJob): Record<string, unknown> {
  const status: Record<string, unknown> = { startTime: time(j.createdAt) };
  const failedPods = j.attempt - 1 + (j.result?.type === 'Failed' ? 1 : 0);
  if (!j.result) {
    status.active = 1;
    status.ready = 0;
  }
  if (failedPods > 0) status.failed = failedPods;
  if (j.result?.type === 'Complete') {
    status.succeeded = 1;
    status.completionTime = time(j.result.at);
  }
  if (j.result) {
    // Kubernetes 1.31+ sets SuccessCriteriaMet / FailureTarget first, then Complete / Failed.
    const first = j.result.type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget';
    status.conditions = [first, j.result.type].map((type) => ({
      lastProbeTime: time(j.result!.at),
      lastTransitionTime: time(j.result!.at),
      ...(j.result!.message !== '' ? { message: j.result!.message } : {}),
      ...(j.result!.reason !== '' ? { reason: j.result!.reason } : {}),
      status: 'True',
      type,
    }));
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      annotations: { 'upgrade.cattle.io/ttl-seconds-after-finished': '900' },
      creationTimestamp: time(j.createdAt),
      labels: j.labels,
      name: j.name,
      namespace: j.namespace,
      uid: j.uid,
    },
    spec: {
      activeDeadlineSeconds: j.activeDeadlineSeconds,
      backoffLimit: 2,
      template: {
        spec: {
          initContainers: j.stages.filter((x) => x !== 'upgrade').map((name) => ({ name })),
          containers: [{ name: 'upgrade', image: `rancher/k3s-upgrade:${j.version}` }],
          nodeName: j.node,
        },
      },
    },
    status,
  };
}

/** A label selector (`a=b,c!=d,e,!f`) against labels. */
function selects(selector: string | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined || selector === '') return true;
  for (const term of selector.split(',')) {
    const t = term.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(t))) {
      if (labels[m[1]!] === m[2]) return false;
    } else if ((m = /^([^!=]+)==?(.*)$/.exec(t))) {
      if (labels[m[1]!] !== m[2]) return false;
    } else if (t.startsWith('!')) {
      if (labels[t.slice(1)] !== undefined) return false;
    } else if (labels[t] === undefined) return false;
  }
  return true;
}

function names(a: Args): string[] {
  const [first, ...more] = a.positional;
  const slash = first?.split('/')[1];
  return slash !== undefined ? [slash, ...more] : more;
}

function getPlans(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  const bad = onlyJson(a);
  if (bad) return bad;
  const suc = sucOf(ctx, clusterId)!;
  return getObjects(a, { resource: 'plans.upgrade.cattle.io', all: suc.plans, render: planJson });
}

function getJobs(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  const bad = onlyJson(a);
  if (bad) return bad;
  return getObjects(a, { resource: 'jobs.batch', all: sucOf(ctx, clusterId)?.jobs ?? [], render: jobJson });
}

function getObjects<T extends { name: string; namespace: string; labels: Record<string, string> }>(
  a: Args,
  { resource, all, render }: { resource: string; all: T[]; render: (x: T) => Record<string, unknown> },
): ExecResult {
  const ns = a.namespace ?? 'default';
  const inNs = all.filter((x) => a.allNamespaces || x.namespace === ns).filter((x) => selects(a.selector, x.labels));
  const wanted = names(a);
  if (wanted.length === 0) return ok(listJson(inNs.map(render)));
  const found = wanted.map((n) => inNs.find((x) => x.name === n));
  const notFound = wanted
    .filter((_, i) => found[i] === undefined)
    .map((n) => `Error from server (NotFound): ${resource} "${n}" not found\n`)
    .join('');
  const items = found.filter((x): x is T => x !== undefined).map(render);
  if (wanted.length === 1) return items[0] ? ok(`${JSON.stringify(items[0], null, 4)}\n`) : fail(1, notFound);
  return { code: notFound === '' ? 0 : 1, stdout: listJson(items), stderr: notFound };
}

function getCrd(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  const bad = onlyJson(a);
  if (bad) return bad;
  const crd = sucOf(ctx, clusterId)?.crd === true;
  const items = crd
    ? [
        {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: PLAN_CRD },
          spec: { group: 'upgrade.cattle.io', names: { kind: 'Plan', plural: 'plans' }, scope: 'Namespaced' },
        },
      ]
    : [];
  const wanted = names(a);
  if (wanted.length === 0) return ok(listJson(items));
  const name = wanted[0]!;
  const item = items.find((i) => i.metadata.name === name);
  return item
    ? ok(`${JSON.stringify(item, null, 4)}\n`)
    : fail(1, `Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "${name}" not found\n`);
}

function getDeployment(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  const bad = onlyJson(a);
  if (bad) return bad;
  const d = sucOf(ctx, clusterId)?.deployment;
  const items = d
    ? [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { creationTimestamp: time(d.createdAt), name: SUC_DEPLOYMENT, namespace: SUC_NAMESPACE },
          spec: {
            replicas: 1,
            template: {
              spec: { containers: [{ name: SUC_DEPLOYMENT, image: `rancher/system-upgrade-controller:${d.version}` }] },
            },
          },
          status: { availableReplicas: 1, readyReplicas: 1, replicas: 1, updatedReplicas: 1 },
        },
      ]
    : [];
  const wanted = names(a);
  if (wanted.length === 0) return ok(listJson(items));
  const name = wanted[0]!;
  const item = items.find((i) => i.metadata.name === name);
  return item ? ok(`${JSON.stringify(item, null, 4)}\n`) : fail(1, `Error from server (NotFound): deployments.apps "${name}" not found\n`);
}

/** `kubectl get nodes -l <selector> -o json` (the plain `get nodes` is kubectl.ts's). */
function getNodesBySelector(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  const bad = onlyJson(a);
  if (bad) return bad;
  const s = ctx.store.read();
  const now = ctx.now();
  const nodes = Object.values(s.clusters[clusterId]?.nodes ?? {})
    .filter((n) => selects(a.selector, n.labels))
    .sort((x, y) => x.name.localeCompare(y.name));
  return ok(listJson(nodes.map((n) => nodeJson({ s, clusterId, now }, n))));
}

/** `kubectl annotate plans.upgrade.cattle.io -n NS NAME k=v|k- [--overwrite]`. */
function annotatePlan(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  if (a.bad) return fail(1, `error: unknown flag: ${a.bad}\nSee 'kubectl annotate --help' for usage.\n`);
  const [first, ...rest] = a.positional;
  const name = first?.includes('/') ? first.split('/')[1] : rest.shift();
  const ns = a.namespace ?? 'default';
  if (!name || rest.length === 0) return fail(1, 'error: at least one annotation update is required\n');
  return ctx.store.update((s): ExecResult => {
    reconcileSuc(s, clusterId, ctx.now());
    const plan = s.clusters[clusterId]?.suc?.plans.find((p) => p.namespace === ns && p.name === name);
    if (!plan) return fail(1, `Error from server (NotFound): plans.upgrade.cattle.io "${name}" not found\n`);
    for (const kv of rest) {
      const eq = kv.indexOf('=');
      if (eq < 0 && kv.endsWith('-')) delete plan.annotations[kv.slice(0, -1)];
      else if (eq > 0) {
        const key = kv.slice(0, eq);
        if (plan.annotations[key] !== undefined && plan.annotations[key] !== kv.slice(eq + 1) && !a.overwrite)
          return fail(
            1,
            `error: --overwrite is false but found the following declared annotation(s): '${key}' already has a value (${plan.annotations[key]})\n`,
          );
        plan.annotations[key] = kv.slice(eq + 1);
      } else return fail(1, `error: invalid annotation format: ${kv}\n`);
    }
    plan.resourceVersion++;
    return ok(`plan.upgrade.cattle.io/${name} annotated\n`);
  });
}

/** `kubectl delete jobs.batch -n NS NAME...` (SUC makes a new Job for a node still selected). */
function deleteJobs(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  const ns = a.namespace ?? 'default';
  const wanted = names(a);
  return ctx.store.update((s): ExecResult => {
    const suc = s.clusters[clusterId]?.suc;
    reconcileSuc(s, clusterId, ctx.now());
    const gone = (suc?.jobs ?? []).filter((j) => j.namespace === ns && wanted.includes(j.name));
    if (suc) suc.jobs = suc.jobs.filter((j) => !gone.includes(j));
    reconcileSuc(s, clusterId, ctx.now());
    const missing = wanted.filter((n) => !gone.some((j) => j.name === n));
    return {
      code: missing.length > 0 ? 1 : 0,
      stdout: gone.map((j) => `job.batch "${j.name}" deleted\n`).join(''),
      stderr: missing.map((n) => `Error from server (NotFound): jobs.batch "${n}" not found\n`).join(''),
    };
  });
}

// ---- delete, label, logs, wait --------------------------------------------------------------

function deletePlans(ctx: ExecContext, clusterId: string, a: Args): ExecResult {
  if (a.bad && a.bad !== '--ignore-not-found' && a.bad !== '--wait=false')
    return fail(1, `error: unknown flag: ${a.bad}\nSee 'kubectl delete --help' for usage.\n`);
  const ignoreMissing = a.bad === '--ignore-not-found';
  const ns = a.namespace ?? 'default';
  const wanted = names(a);
  return ctx.store.update((s): ExecResult => {
    const suc = s.clusters[clusterId]?.suc;
    if (!suc?.crd) return noType(a.positional[0] ?? 'plans');
    reconcileSuc(s, clusterId, ctx.now());
    const chosen = suc.plans.filter(
      (p) =>
        p.namespace === ns && (wanted.length > 0 ? wanted.includes(p.name) : a.selector !== undefined && selects(a.selector, p.labels)),
    );
    const missing = wanted.filter((n) => !chosen.some((p) => p.name === n));
    suc.plans = suc.plans.filter((p) => !chosen.includes(p));
    reconcileSuc(s, clusterId, ctx.now());
    const stdout = chosen.map((p) => `plan.upgrade.cattle.io "${p.name}" deleted\n`).join('');
    if (chosen.length === 0 && wanted.length === 0) return { code: 0, stdout: '', stderr: 'No resources found\n' };
    const stderr = ignoreMissing
      ? ''
      : missing.map((n) => `Error from server (NotFound): plans.upgrade.cattle.io "${n}" not found\n`).join('');
    return { code: stderr === '' ? 0 : 1, stdout, stderr };
  });
}

/** `kubectl label node NAME... key=value key-` (`--overwrite` to change a value). */
function label(ctx: ExecContext, clusterId: string, a: Args): ExecResult | undefined {
  const [kind, ...restPos] = a.positional;
  let nodes: string[];
  let changes: string[];
  if (kind !== undefined && /^nodes?\//.test(kind)) {
    nodes = [kind.replace(/^nodes?\//, ''), ...restPos.filter((x) => !x.includes('=') && !x.endsWith('-'))];
    changes = restPos.filter((x) => x.includes('=') || x.endsWith('-'));
  } else if (kind === 'node' || kind === 'nodes' || kind === 'no') {
    nodes = restPos.filter((x) => !x.includes('=') && !x.endsWith('-'));
    changes = restPos.filter((x) => x.includes('=') || x.endsWith('-'));
  } else return undefined;
  if (a.bad) return fail(1, `error: unknown flag: ${a.bad}\nSee 'kubectl label --help' for usage.\n`);
  if (changes.length === 0) return fail(1, 'error: at least one label update is required\n');
  for (const c of changes) {
    const key = c.endsWith('-') && !c.includes('=') ? c.slice(0, -1) : c.slice(0, c.indexOf('='));
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key))
      return fail(1, `error: invalid label spec: ${c}\n`);
  }
  return ctx.store.update((s): ExecResult => {
    const cluster = s.clusters[clusterId];
    reconcileSuc(s, clusterId, ctx.now());
    let stdout = '';
    let stderr = '';
    for (const name of nodes) {
      const node = cluster?.nodes[name];
      if (!node) {
        stderr += `Error from server (NotFound): nodes "${name}" not found\n`;
        continue;
      }
      let conflict: string | undefined;
      for (const c of changes) {
        if (c.endsWith('-') && !c.includes('=')) continue;
        const key = c.slice(0, c.indexOf('='));
        const old = node.labels[key];
        if (old !== undefined && old !== c.slice(c.indexOf('=') + 1) && !a.overwrite)
          conflict = `error: '${key}' already has a value (${old}), and --overwrite is false\n`;
      }
      if (conflict) {
        stderr += conflict;
        continue;
      }
      let modified = false;
      for (const c of changes) {
        if (c.endsWith('-') && !c.includes('=')) {
          if (node.labels[c.slice(0, -1)] !== undefined) modified = true;
          delete node.labels[c.slice(0, -1)];
        } else {
          const key = c.slice(0, c.indexOf('='));
          const v = c.slice(c.indexOf('=') + 1);
          if (node.labels[key] !== v) modified = true;
          node.labels[key] = v;
        }
      }
      const onlyRemovals = changes.every((c) => c.endsWith('-') && !c.includes('='));
      stdout += `node/${name} ${modified ? (onlyRemovals ? 'unlabeled' : 'labeled') : 'not labeled'}\n`;
    }
    reconcileSuc(s, clusterId, ctx.now());
    return { code: stderr === '' ? 0 : 1, stdout, stderr };
  });
}

/** `kubectl logs job/NAME [-c C | --all-containers]`: the log of the Job's (latest) pod. */
function logs(ctx: ExecContext, clusterId: string, a: Args): ExecResult | undefined {
  const target = a.positional[0] ?? '';
  const m = /^(jobs?(\.batch)?)\/(.+)$/.exec(target);
  if (!m) return undefined;
  if (a.bad) return fail(1, `error: unknown flag: ${a.bad}\nSee 'kubectl logs --help' for usage.\n`);
  const ns = a.namespace ?? 'default';
  const job = sucOf(ctx, clusterId)?.jobs.find((j) => j.namespace === ns && j.name === m[3]);
  if (!job) return fail(1, `error: error from server (NotFound): jobs.batch "${m[3]}" not found in namespace "${ns}"\n`);
  const order: LabSucStage[] = [...job.stages.filter((x) => x !== 'upgrade'), 'upgrade'];
  if (a.allContainers) return ok(order.map((c) => job.logs[c] ?? '').join(''));
  if (a.container !== undefined) {
    if (!order.includes(a.container as LabSucStage))
      return fail(1, `error: container ${a.container} is not valid for pod apply-${job.name.slice(6, 20)}\n`);
    return ok(job.logs[a.container as LabSucStage] ?? '');
  }
  const others = order.filter((c) => c !== 'upgrade').map((c) => `${c} (init)`);
  const note = others.length > 0 ? `Defaulted container "upgrade" out of: upgrade, ${others.join(', ')}\n` : '';
  return { code: 0, stdout: job.logs.upgrade ?? '', stderr: note };
}

/** `kubectl wait --for=condition=Complete|Failed job/NAME --timeout=D`: a watch on the Job. */
async function waitJob(ctx: ExecContext, clusterId: string, a: Args): Promise<ExecResult> {
  const cond = /^condition=(\w+)$/i.exec(a.forCond ?? '')?.[1];
  if (!cond) return fail(1, "error: the lab's kubectl wait for jobs supports --for=condition=<Complete|Failed>\n");
  const timeoutMs = a.timeout !== undefined ? (parseGoDuration(a.timeout) ?? NaN) : 30_000;
  if (!Number.isFinite(timeoutMs)) return fail(1, 'error: invalid --timeout\n');
  const wanted = names(a);
  if (wanted.length !== 1) return fail(1, "error: the lab's kubectl wait supports exactly one job\n");
  const name = wanted[0]!;
  const ns = a.namespace ?? 'default';
  const deadline = ctx.now() + timeoutMs;
  for (;;) {
    catchUpSuc(ctx, clusterId);
    const s = ctx.store.read();
    const job = s.clusters[clusterId]?.suc?.jobs.find((j) => j.namespace === ns && j.name === name);
    if (!job) return fail(1, `Error from server (NotFound): jobs.batch "${name}" not found\n`);
    const types = job.result ? (job.result.type === 'Complete' ? ['Complete', 'SuccessCriteriaMet'] : ['Failed', 'FailureTarget']) : [];
    if (types.some((t) => t.toLowerCase() === cond.toLowerCase())) return ok(`job.batch/${name} condition met\n`);
    const now = ctx.now();
    if (now >= deadline) return fail(1, `error: timed out waiting for the condition on jobs/${name}\n`);
    const next = nextSucChange(s, clusterId);
    await ctx.sleep(Math.max(1, Math.min(deadline - now, WAIT_LOOK_MS, next - now)));
  }
}

/** Test and lab helpers: put SUC into a cluster directly (as `suc install` would), or a failing Job's log. */
export function installSucState(cluster: KubeCluster, now: number, version = LAB_SUC_VERSION): void {
  const suc = ensureSuc(cluster, now);
  suc.crd = true;
  suc.deployment = { version, createdAt: now };
  suc.at = now;
}
