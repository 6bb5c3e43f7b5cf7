/**
 * `coordination.k8s.io/v1` Leases as the API server keeps them, for the lab's kubectl:
 * `create -f -` (AlreadyExists when the name is taken), `replace -f -` (a compare-and-swap on
 * `metadata.resourceVersion`: 409 Conflict when the object changed since it was read; kubectl
 * itself fills in the current version when the object carries none; a Lease that does not
 * exist is created, as the Lease strategy allows create-on-update), `get lease[s]` (JSON, or
 * kubectl's table) and `delete lease`. Every write bumps the cluster's resourceVersion counter.
 * Leases live in the cluster's datastore: a restored backup brings back the Leases it held.
 */
import { fail, ok, type ExecContext } from './context.js';
import { humanDuration, listJson, table } from './kube-render.js';
import { uid } from './ids.js';
import type { ExecResult } from './sh.js';
import type { KubeCluster, LabState } from './types.js';

/** A stored Lease: metadata as given (resourceVersion, uid and creationTimestamp are the server's), spec as given. */
export interface StoredLease {
  name: string;
  namespace: string;
  resourceVersion: number;
  uid: string;
  createdAt: number;
  labels: Record<string, string> | undefined;
  annotations: Record<string, string> | undefined;
  spec: LeaseSpecJson;
}

export interface LeaseSpecJson {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** What a cluster keeps for Leases (beside nodes, pods and PDBs, in the same datastore). */
interface LeaseData {
  leases?: Record<string, StoredLease>;
  /** The last resourceVersion handed out (etcd's revision). */
  leaseRevision?: number;
}

const RESOURCE = 'leases.coordination.k8s.io';
const KINDS = ['lease', 'leases', 'lease.coordination.k8s.io', 'leases.coordination.k8s.io'];

function data(c: KubeCluster): LeaseData {
  return c as KubeCluster & LeaseData;
}

/** The Leases of a cluster by `<namespace>/<name>` (read-only view for tests and `lab status`). */
export function clusterLeases(c: KubeCluster | undefined): Record<string, StoredLease> {
  return c ? (data(c).leases ?? {}) : {};
}

/** A Lease as the API server prints it (`kubectl get lease -o json`). */
export function leaseJson(l: StoredLease): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    ...(l.annotations ? { annotations: l.annotations } : {}),
    creationTimestamp: new Date(Math.floor(l.createdAt / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z'),
    ...(l.labels ? { labels: l.labels } : {}),
    name: l.name,
    namespace: l.namespace,
    resourceVersion: String(l.resourceVersion),
    uid: l.uid,
  };
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec: l.spec };
}

/**
 * The lab's kubectl for Leases; undefined when the command is not about Leases (the caller
 * goes on with its own verbs).
 */
export async function leaseKubectl(
  ctx: ExecContext,
  clusterId: string,
  { args, stdin }: { args: readonly string[]; stdin: string },
): Promise<ExecResult | undefined> {
  const [verb, ...rest] = args;
  const flags = parseFlags(rest);
  if (verb === 'create' || verb === 'replace') {
    if (flags.file === undefined) return undefined;
    if (flags.file !== '-') return fail(1, `error: the lab's kubectl reads objects only from stdin (-f -), got "-f ${flags.file}"\n`);
    const obj = await parseObject(stdin);
    if (typeof obj === 'string') return fail(1, obj);
    if (obj.kind !== 'Lease')
      return fail(1, `error: the lab's kubectl ${verb}s only Leases (coordination.k8s.io/v1), got kind "${String(obj.kind)}"\n`);
    return write(ctx, clusterId, { verb, obj, flags });
  }
  if (verb === 'get' || verb === 'delete') {
    const first = flags.positional[0] ?? '';
    const [kind, inlineName] = first.includes('/') ? first.split('/', 2) : [first, undefined];
    if (!KINDS.includes(kind ?? '')) return undefined;
    const names = inlineName !== undefined ? [inlineName, ...flags.positional.slice(1)] : flags.positional.slice(1);
    return verb === 'get' ? get(ctx, clusterId, { names, flags }) : del(ctx, clusterId, { names, flags });
  }
  return undefined;
}

interface Flags {
  file: string | undefined;
  namespace: string | undefined;
  output: string | undefined;
  positional: string[];
  unknown: string | undefined;
}

function parseFlags(args: readonly string[]): Flags {
  const f: Flags = { file: undefined, namespace: undefined, output: undefined, positional: [], unknown: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-f' || a === '--filename') f.file = args[++i];
    else if (a.startsWith('--filename=')) f.file = a.slice('--filename='.length);
    else if (a === '-n' || a === '--namespace') f.namespace = args[++i];
    else if (a.startsWith('--namespace=')) f.namespace = a.slice('--namespace='.length);
    else if (a === '-o' || a === '--output') f.output = args[++i];
    else if (a.startsWith('-o=') || a.startsWith('--output=')) f.output = a.slice(a.indexOf('=') + 1);
    else if (a.startsWith('-o') && a.length > 2) f.output = a.slice(2);
    else if (a.startsWith('-')) f.unknown ??= a;
    else f.positional.push(a);
  }
  return f;
}

interface LeaseInput {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown; labels?: unknown; annotations?: unknown };
  spec?: Record<string, unknown>;
}

async function parseObject(stdin: string): Promise<LeaseInput | string> {
  if (stdin.trim() === '') return 'error: no objects passed to create\n';
  let obj: unknown;
  try {
    obj = JSON.parse(stdin);
  } catch {
    try {
      const { parse } = await import('yaml');
      obj = parse(stdin);
    } catch (e) {
      return `error: error parsing STDIN: ${(e as Error).message.split('\n')[0] ?? ''}\n`;
    }
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return 'error: error validating "STDIN": not a Kubernetes object\n';
  return obj as LeaseInput;
}

const MICRO_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

/** A MicroTime as the API server stores and prints it: UTC, six fractional digits. */
function microTime(text: string): string | undefined {
  const m = MICRO_TIME.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[7] ?? '.').slice(1).padEnd(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac.slice(0, 6)}Z`;
}

const stringMap = (v: unknown): Record<string, string> | undefined | false => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  for (const x of Object.values(v)) if (typeof x !== 'string') return false;
  return { ...(v as Record<string, string>) };
};

/** Validation as the API server does it for a Lease; the error text when invalid. */
function validate(obj: LeaseInput, name: string, how: 'creating' | 'replacing'): { spec: LeaseSpecJson } | string {
  const spec: LeaseSpecJson = {};
  const s = obj.spec ?? {};
  const invalid = (field: string, value: unknown, why: string) =>
    `The Lease "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${why}\n`;
  const badRequest = (why: string) =>
    `Error from server (BadRequest): error when ${how} "STDIN": Lease in version "v1" cannot be handled as a Lease: ${why}\n`;
  if (s.holderIdentity !== undefined && s.holderIdentity !== null) {
    if (typeof s.holderIdentity !== 'string')
      return badRequest('json: cannot unmarshal into Go struct field LeaseSpec.spec.holderIdentity of type string');
    spec.holderIdentity = s.holderIdentity;
  }
  if (s.leaseDurationSeconds !== undefined && s.leaseDurationSeconds !== null) {
    if (typeof s.leaseDurationSeconds !== 'number' || !Number.isInteger(s.leaseDurationSeconds))
      return badRequest('json: cannot unmarshal into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32');
    if (s.leaseDurationSeconds <= 0) return invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0');
    spec.leaseDurationSeconds = s.leaseDurationSeconds;
  }
  if (s.leaseTransitions !== undefined && s.leaseTransitions !== null) {
    if (typeof s.leaseTransitions !== 'number' || !Number.isInteger(s.leaseTransitions))
      return badRequest('json: cannot unmarshal into Go struct field LeaseSpec.spec.leaseTransitions of type int32');
    if (s.leaseTransitions < 0) return invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0');
    spec.leaseTransitions = s.leaseTransitions;
  }
  for (const key of ['acquireTime', 'renewTime'] as const) {
    const v = s[key];
    if (v === undefined || v === null) continue;
    const t = typeof v === 'string' ? microTime(v) : undefined;
    if (t === undefined)
      return badRequest(
        `parsing time ${JSON.stringify(String(v))} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(String(v))} as "2006"`,
      );
    spec[key] = t;
  }
  return { spec };
}

function write(
  ctx: ExecContext,
  clusterId: string,
  { verb, obj, flags }: { verb: 'create' | 'replace'; obj: LeaseInput; flags: Flags },
): ExecResult {
  const how = verb === 'create' ? 'creating' : 'replacing';
  const md = obj.metadata ?? {};
  const name = typeof md.name === 'string' ? md.name : '';
  if (name === '') return fail(1, `error: error when ${how} "STDIN": resource name may not be empty\n`);
  const namespace = (typeof md.namespace === 'string' ? md.namespace : undefined) ?? flags.namespace ?? 'default';
  if (flags.namespace !== undefined && typeof md.namespace === 'string' && md.namespace !== flags.namespace)
    return fail(
      1,
      `error: the namespace from the provided object "${md.namespace}" does not match the namespace "${flags.namespace}". You must pass '--namespace=${md.namespace}' to perform this operation.\n`,
    );
  if (obj.apiVersion !== 'coordination.k8s.io/v1')
    return fail(
      1,
      `error: resource mapping not found for name: "${name}" namespace: "${namespace}" from "STDIN": no matches for kind "Lease" in version "${String(obj.apiVersion)}"\n`,
    );
  const labels = stringMap(md.labels);
  const annotations = stringMap(md.annotations);
  if (labels === false || annotations === false)
    return fail(
      1,
      `Error from server (BadRequest): error when ${how} "STDIN": Lease in version "v1" cannot be handled as a Lease: labels and annotations must map strings to strings\n`,
    );
  const v = validate(obj, name, how);
  if (typeof v === 'string') return fail(1, v);
  const rvText = md.resourceVersion;
  const now = ctx.now();
  return ctx.store.update((s): ExecResult => {
    const cluster = s.clusters[clusterId];
    if (!cluster) return fail(1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n');
    const d = data(cluster);
    const leases = (d.leases ??= {});
    const key = `${namespace}/${name}`;
    const cur = leases[key];
    const next = (d.leaseRevision ?? 1000) + 1;
    if (verb === 'create') {
      if (rvText !== undefined && rvText !== '')
        return fail(
          1,
          `Error from server (BadRequest): error when creating "STDIN": resourceVersion should not be set on objects to be created\n`,
        );
      if (cur) return fail(1, `Error from server (AlreadyExists): error when creating "STDIN": ${RESOURCE} "${name}" already exists\n`);
    } else if (cur && rvText !== undefined && rvText !== '' && String(rvText) !== String(cur.resourceVersion)) {
      return fail(
        1,
        `Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on ${RESOURCE} "${name}": the object has been modified; please apply your changes to the latest version and try again\n`,
      );
    }
    d.leaseRevision = next;
    const stored: StoredLease = {
      name,
      namespace,
      resourceVersion: next,
      uid: cur?.uid ?? uid(),
      createdAt: cur?.createdAt ?? now,
      labels: labels ?? undefined,
      annotations: annotations ?? undefined,
      spec: v.spec,
    };
    leases[key] = stored;
    if (flags.output === 'json') return ok(`${JSON.stringify(leaseJson(stored), null, 4)}\n`);
    if (flags.output === 'name') return ok(`${RESOURCE.replace('leases', 'lease')}/${name}\n`);
    return ok(`lease.coordination.k8s.io/${name} ${verb === 'create' ? 'created' : 'replaced'}\n`);
  });
}

/** The Leases named (all of the namespace when none), as `kubectl get` asked. */
interface LeaseQuery {
  names: string[];
  flags: Flags;
}

function get(ctx: ExecContext, clusterId: string, { names, flags }: LeaseQuery): ExecResult {
  if (flags.unknown) return fail(1, `error: unknown flag: ${flags.unknown}\nSee 'kubectl get --help' for usage.\n`);
  if (flags.output !== undefined && flags.output !== 'json')
    return fail(1, `error: the lab's kubectl supports only -o json (got "${flags.output}")\n`);
  const cluster = ctx.store.read().clusters[clusterId];
  const ns = flags.namespace ?? 'default';
  const all = Object.values(clusterLeases(cluster))
    .filter((l) => l.namespace === ns)
    .sort((a, b) => a.name.localeCompare(b.name));
  const missing = names.filter((n) => !all.some((l) => l.name === n));
  if (missing.length > 0) return fail(1, missing.map((n) => `Error from server (NotFound): ${RESOURCE} "${n}" not found\n`).join(''));
  const chosen = names.length > 0 ? names.map((n) => all.find((l) => l.name === n)!) : all;
  if (flags.output === 'json') {
    const items = chosen.map(leaseJson);
    return ok(names.length === 1 ? `${JSON.stringify(items[0], null, 4)}\n` : listJson(items));
  }
  if (chosen.length === 0) return fail(0, `No resources found in ${ns} namespace.\n`);
  const now = ctx.now();
  return ok(
    table([['NAME', 'HOLDER', 'AGE'], ...chosen.map((l) => [l.name, l.spec.holderIdentity ?? '', humanDuration(now - l.createdAt)])]),
  );
}

function del(ctx: ExecContext, clusterId: string, { names, flags }: LeaseQuery): ExecResult {
  if (flags.unknown) return fail(1, `error: unknown flag: ${flags.unknown}\nSee 'kubectl delete --help' for usage.\n`);
  if (names.length === 0) return fail(1, 'error: resource(s) were provided, but no name was specified\n');
  const ns = flags.namespace ?? 'default';
  return ctx.store.update((s): ExecResult => {
    const cluster = s.clusters[clusterId];
    const leases = cluster ? data(cluster).leases : undefined;
    let out = '';
    let err = '';
    for (const n of names) {
      if (leases?.[`${ns}/${n}`]) {
        delete leases[`${ns}/${n}`];
        data(cluster!).leaseRevision = (data(cluster!).leaseRevision ?? 1000) + 1;
        out += `lease.coordination.k8s.io "${n}" deleted\n`;
      } else err += `Error from server (NotFound): ${RESOURCE} "${n}" not found\n`;
    }
    return err ? fail(1, err, out) : ok(out);
  });
}

/**
 * `lab reset`: removes pve-k3s's Lease of the cluster when no one holds it (the fresh world
 * has none; the reset itself held one and released it). A held Lease stays.
 */
export function clearReleasedLease(s: LabState, cluster: string): boolean {
  const leases = data(s.clusters[s.cluster] ?? ({} as KubeCluster)).leases;
  const key = `kube-system/pve-k3s-${cluster}`;
  const l = leases?.[key];
  if (!leases || !l || (l.spec.holderIdentity ?? '') !== '') return false;
  delete leases[key];
  return true;
}
