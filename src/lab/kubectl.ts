/**
 * `/usr/local/bin/kubectl` inside a lab container: talks to 127.0.0.1:6443, so it works only
 * where a k3s server is up, and then sees that server's whole cluster.
 */
import { runDrain, pickNode } from './drain.js';
import { kubectlWait } from './kubectl-wait.js';
import { kubectlDeleteNode } from './kube-delete.js';
import { leaseKubectl } from './kube-leases.js';
import { apiCluster, findContainer, serviceStatus } from './k3s-model.js';
import { listJson, nodeJson, nodesTable, pdbJson, podJson } from './kube-render.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import { kubectlGetExtra } from './kube-upgraders.js';
import { sucKubectl } from './suc-kubectl.js';

export const REFUSED = 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n';

export async function runKubectl(
  ctx: ExecContext,
  ref: ContainerRef,
  { argv, stdin = '' }: { argv: string[]; stdin?: string },
): Promise<ExecResult> {
  const s = ctx.store.read();
  const loc = findContainer(s, ref.host, ref.vmid);
  const clusterId = loc ? apiCluster(s, loc.ct, ctx.now()) : undefined;
  const args = stripGlobalFlags(argv);
  if (args[0] === 'version' && args.includes('--client')) return ok('Client Version: v1.33\nKustomize Version: v5.6.0\n');
  if (clusterId === undefined) return fail(1, REFUSED);
  const lease = await leaseKubectl(ctx, clusterId, { args, stdin });
  if (lease) return lease;
  // system-upgrade-controller's objects; it also catches the controller up to now first.
  const suc = await sucKubectl(ctx, clusterId, { args, stdin });
  if (suc) return suc;
  const [verb, ...rest] = args;
  switch (verb) {
    case 'get':
      return get(ctx, clusterId, rest);
    case 'drain':
      return runDrain(ctx, clusterId, rest);
    case 'cordon':
    case 'uncordon':
      return cordon(ctx, clusterId, { desired: verb === 'cordon', args: rest });
    case 'annotate':
      return annotate(ctx, clusterId, rest);
    case 'wait':
      return kubectlWait(ctx, ref, rest);
    case 'delete':
      return kubectlDeleteNode(ctx, clusterId, rest);
    default:
      return unsupported(args);
  }
}

function unsupported(args: string[]): ExecResult {
  return fail(1, `error: the lab's kubectl does not support "kubectl ${args.join(' ')}"\n`);
}

function stripGlobalFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--kubeconfig' || a === '--request-timeout') {
      i++;
      continue;
    }
    if (a.startsWith('--kubeconfig=') || a.startsWith('--request-timeout=')) continue;
    out.push(a);
  }
  return out;
}

interface GetArgs {
  resource: string;
  names: string[];
  output: string | undefined;
  allNamespaces: boolean;
  namespace: string | undefined;
  raw: string | undefined;
  /** `--field-selector`: only `spec.nodeName=NAME` (what pve-k3s asks). */
  fieldSelector: string | undefined;
  /** `-l` / `--selector`. */
  selector: string | undefined;
}

/** A label selector's equality-based and existence terms (`a=b`, `a==b`, `a!=b`, `a`, `!a`), ANDed; undefined when not understood. */
export function labelSelectorMatcher(sel: string): ((labels: Record<string, string>) => boolean) | undefined {
  const terms = sel.split(',').map((t) => t.trim());
  const tests: ((l: Record<string, string>) => boolean)[] = [];
  for (const t of terms) {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*!=\s*([\w.-]*)$/.exec(t))) {
      const [k, v] = [m[1]!, m[2]!];
      tests.push((l) => l[k] !== v);
    } else if ((m = /^([\w./-]+)\s*==?\s*([\w.-]*)$/.exec(t))) {
      const [k, v] = [m[1]!, m[2]!];
      tests.push((l) => l[k] === v);
    } else if ((m = /^!([\w./-]+)$/.exec(t))) {
      const k = m[1]!;
      tests.push((l) => !(k in l));
    } else if ((m = /^([\w./-]+)$/.exec(t))) {
      const k = m[1]!;
      tests.push((l) => k in l);
    } else return undefined;
  }
  return (l) => tests.every((f) => f(l));
}

function parseGet(args: string[]): GetArgs | string {
  const g: GetArgs = {
    resource: '',
    names: [],
    output: undefined,
    allNamespaces: false,
    namespace: undefined,
    raw: undefined,
    fieldSelector: undefined,
    selector: undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-o' || a === '--output') g.output = args[++i];
    else if (a.startsWith('-o=') || a.startsWith('--output=')) g.output = a.slice(a.indexOf('=') + 1);
    else if (a.startsWith('-o') && a.length > 2) g.output = a.slice(2);
    else if (a === '-A' || a === '--all-namespaces') g.allNamespaces = true;
    else if (a === '-n' || a === '--namespace') g.namespace = args[++i];
    else if (a.startsWith('--namespace=')) g.namespace = a.slice('--namespace='.length);
    else if (a === '--raw') g.raw = args[++i];
    else if (a.startsWith('--raw=')) g.raw = a.slice(6);
    else if (a === '--field-selector') g.fieldSelector = args[++i];
    else if (a.startsWith('--field-selector=')) g.fieldSelector = a.slice('--field-selector='.length);
    else if (a === '-l' || a === '--selector') g.selector = args[++i];
    else if (a.startsWith('--selector=')) g.selector = a.slice('--selector='.length);
    else if (a.startsWith('-')) return `error: unknown flag: ${a}\nSee 'kubectl get --help' for usage.`;
    else if (g.resource === '') g.resource = a;
    else g.names.push(a);
  }
  if (g.output !== undefined && g.output !== 'json') return `error: the lab's kubectl supports only -o json (got "${g.output}")`;
  return g;
}

function get(ctx: ExecContext, clusterId: string, args: string[]): ExecResult {
  const g = parseGet(args);
  if (typeof g === 'string') return fail(1, `${g}\n`);
  if (g.raw !== undefined) {
    if (['/readyz', '/livez', '/healthz', '/readyz/etcd', '/livez/etcd'].includes(g.raw)) return ok('ok');
    const proxied = /^\/api\/v1\/nodes\/([^/]+)\/proxy\/healthz$/.exec(g.raw);
    if (proxied) return kubeletHealthz(ctx, clusterId, proxied[1]!);
    return fail(1, `Error from server (NotFound): the server could not find the requested resource\n`);
  }
  const s = ctx.store.read();
  const at = { s, clusterId, now: ctx.now() };
  const cluster = s.clusters[clusterId];
  if (!cluster) return fail(1, REFUSED);
  const res = g.resource.split('/');
  const kind = res[0] ?? '';
  const names = res[1] !== undefined ? [res[1], ...g.names] : g.names;
  if (['nodes', 'node', 'no'].includes(kind)) {
    const all = Object.values(cluster.nodes).sort((a, b) => a.name.localeCompare(b.name));
    // As kubectl: what was found on stdout, each NotFound on stderr after it, exit 1 if any.
    const missing = names.filter((n) => !cluster.nodes[n]);
    const notFound = missing.map((n) => `Error from server (NotFound): nodes "${n}" not found\n`).join('');
    const chosen = names.length > 0 ? names.map((n) => cluster.nodes[n]).filter((n) => n !== undefined) : all;
    const code = missing.length > 0 ? 1 : 0;
    if (g.output === 'json') {
      if (names.length === 1 && chosen.length === 0) return fail(1, notFound);
      const items = chosen.map((n) => nodeJson(at, n));
      return { code, stdout: names.length === 1 ? `${JSON.stringify(items[0], null, 4)}\n` : listJson(items), stderr: notFound };
    }
    if (chosen.length === 0) return { code, stdout: '', stderr: notFound || 'No resources found\n' };
    return { code, stdout: nodesTable(at, chosen), stderr: notFound };
  }
  if (['pods', 'pod', 'po'].includes(kind) || ['pdb', 'pdbs', 'poddisruptionbudget', 'poddisruptionbudgets'].includes(kind)) {
    if (g.output !== 'json' || names.length > 0) return unsupported(['get', ...args]);
    const inNs = (ns: string) => g.allNamespaces || ns === (g.namespace ?? 'default');
    if (['pods', 'pod', 'po'].includes(kind)) {
      const onNode = g.fieldSelector === undefined ? undefined : /^spec\.nodeName=(.*)$/.exec(g.fieldSelector)?.[1];
      if (g.fieldSelector !== undefined && onNode === undefined) return unsupported(['get', ...args]);
      const match = g.selector === undefined ? () => true : labelSelectorMatcher(g.selector);
      if (!match) return fail(1, `error: unable to parse requirement: invalid label selector "${g.selector}"\n`);
      const pods = cluster.pods.filter(
        (p) => inNs(p.namespace) && (onNode === undefined || p.node === onNode) && match({ app: p.app, ...p.labels }),
      );
      return ok(listJson(pods.map((p) => podJson(at, p))));
    }
    return ok(listJson(cluster.pdbs.filter((b) => inNs(b.namespace)).map((b) => pdbJson(at, cluster, b))));
  }
  const extra = kubectlGetExtra(s, { kind, names, namespace: g.namespace });
  if (extra) return extra;
  if (kind === '')
    return fail(
      1,
      'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl get -h\' for help and examples\n',
    );
  return fail(1, `error: the server doesn't have a resource type "${kind}"\n`);
}

/** The node's kubelet /healthz through the apiserver (nodes/proxy): ok while its k3s service is up. */
function kubeletHealthz(ctx: ExecContext, clusterId: string, name: string): ExecResult {
  const s = ctx.store.read();
  const node = s.clusters[clusterId]?.nodes[name];
  if (!node) return fail(1, `Error from server (NotFound): nodes "${name}" not found\n`);
  const ct = findContainer(s, node.host, node.vmid)?.ct;
  const up =
    ct !== undefined &&
    Object.values(ct.k3s.services).some((svc) => svc?.cluster === clusterId && serviceStatus(s, { ct, svc, now: ctx.now() }) === 'active');
  return up ? ok('ok') : fail(1, `Error from server: error dialing backend: dial tcp ${name}:10250: connect: connection refused\n`);
}

/** `kubectl cordon` (desired: unschedulable) or `uncordon` (not). */
function cordon(ctx: ExecContext, clusterId: string, { desired, args }: { desired: boolean; args: string[] }): ExecResult {
  const names = args.filter((a) => !a.startsWith('-')).map((a) => a.replace(/^nodes?\//, ''));
  if (names.length !== 1 || args.some((a) => a.startsWith('-'))) return unsupported([desired ? 'cordon' : 'uncordon', ...args]);
  const name = names[0] ?? '';
  const now = ctx.now();
  const r = ctx.store.update((s) => {
    const cluster = s.clusters[clusterId];
    const node = cluster?.nodes[name];
    if (!cluster || !node) return undefined;
    if (node.unschedulable === desired) return 'already';
    node.unschedulable = desired;
    node.unschedulableSince = desired ? now : undefined;
    if (!desired) {
      for (const p of cluster.pods) if (p.node === '') p.node = pickNode({ s, clusterId, now }, cluster);
    }
    return 'changed';
  });
  if (r === undefined) return fail(1, `Error from server (NotFound): nodes "${name}" not found\n`);
  const verb = desired ? 'cordoned' : 'uncordoned';
  return ok(`node/${name} ${r === 'already' ? `already ${verb}` : verb}\n`);
}

function annotate(ctx: ExecContext, clusterId: string, args: string[]): ExecResult {
  const overwrite = args.includes('--overwrite') || args.includes('--overwrite=true');
  const plain = args.filter((a) => !a.startsWith('--overwrite'));
  if (plain.some((a) => a.startsWith('-') && a !== '-')) return unsupported(['annotate', ...args]);
  let rest = plain;
  let name: string | undefined;
  if (/^nodes?\//.test(rest[0] ?? '')) {
    name = (rest[0] ?? '').replace(/^nodes?\//, '');
    rest = rest.slice(1);
  } else if (['node', 'nodes', 'no'].includes(rest[0] ?? '')) {
    name = rest[1];
    rest = rest.slice(2);
  } else return unsupported(['annotate', ...args]);
  if (!name || rest.length === 0) return fail(1, 'error: at least one annotation update is required\n');
  const node = name;
  const r = ctx.store.update((s) => {
    const n = s.clusters[clusterId]?.nodes[node];
    if (!n) return `Error from server (NotFound): nodes "${node}" not found\n`;
    for (const kv of rest) {
      if (kv.endsWith('-') && !kv.includes('=')) continue;
      const eq = kv.indexOf('=');
      if (eq <= 0) return `error: invalid annotation format: ${kv}\n`;
      const key = kv.slice(0, eq);
      const old = n.annotations[key];
      if (old !== undefined && !overwrite)
        return `error: --overwrite is false but found the following declared annotation(s): '${key}' already has a value (${old})\n`;
    }
    for (const kv of rest) {
      const eq = kv.indexOf('=');
      if (eq < 0) delete n.annotations[kv.slice(0, -1)];
      else n.annotations[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    return undefined;
  });
  return r === undefined ? ok(`node/${node} annotated\n`) : fail(1, r);
}
