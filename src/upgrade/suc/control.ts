/**
 * Installing system-upgrade-controller, and pausing or abandoning an `upgrade --engine suc` run:
 * - install: a pinned SUC release's manifests (its crd.yaml and system-upgrade-controller.yaml),
 *   fetched from the release URL or read from air-gap files, applied with `kubectl apply -f -`;
 * - pause: our Plans are annotated paused (a running `upgrade --engine suc` stops before its
 *   next node) and the opt-in label is removed from every node whose Job has not started;
 * - abandon: our Plans are deleted (SUC deletes their Jobs), the opt-in label and SUC's labels
 *   of our Plans (`disabled`, or the hash of a Job done) removed, and the nodes the run cordoned (the run record's list) uncordoned.
 */
import { RunError, UsageError } from '../../domain/errors.js';
import { CORDON_ANNOTATION } from '../../domain/facts.js';
import type { Kube } from '../../kube/kube.js';
import { parseJsonOutput } from '../../kube/nodes.js';
import type { RunResult } from '../../shell/shell.js';
import { ourPlansSelector, PAUSED_ANNOTATION } from './engine.js';
import { OPT_IN_LABEL, PLAN_LABEL_PREFIX, SUC_NAMESPACE } from './plans.js';

/** The SUC release `suc install` applies unless told otherwise (the one the lab and the Plans follow). */
export const PINNED_SUC_RELEASE = 'v0.20.0';
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function releaseUrls(version: string): string[] {
  const base = `https://github.com/rancher/system-upgrade-controller/releases/download/${version}`;
  return [`${base}/crd.yaml`, `${base}/system-upgrade-controller.yaml`];
}

/** Downloads manifests (on this machine) with a timeout and a size cap. */
export async function fetchManifests(urls: readonly string[], timeoutMs = 60_000): Promise<string> {
  const parts: string[] = [];
  for (const url of urls) {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch (err) {
      throw new RunError(`cannot download ${url}: ${(err as Error).message}`, {
        hint: 'without network access, download the release files elsewhere and pass them with --file (air gap)',
      });
    }
    if (!res.ok)
      throw new RunError(`cannot download ${url}: HTTP ${res.status}`, {
        hint: 'check the release version (--version) or pass the files with --file',
      });
    const text = await res.text();
    if (text.length > MAX_MANIFEST_BYTES)
      throw new RunError(`${url} is larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB: not a SUC manifest`);
    parts.push(text);
  }
  return parts.join('\n---\n');
}

/** Applies SUC's manifests; returns what kubectl said. */
export async function applyManifests(kube: Kube, manifests: string): Promise<string> {
  if (!/kind:\s*Deployment/.test(manifests) && !/"kind":\s*"Deployment"/.test(manifests))
    throw new UsageError('the manifests hold no Deployment: they are not a system-upgrade-controller release', {
      hint: 'pass the release files crd.yaml and system-upgrade-controller.yaml',
    });
  const args = ['apply', '-f', '-'];
  const r = await kube.kubectl(args, { stdin: manifests, timeoutMs: 120_000 });
  if (r.code !== 0) throw kube.error(args, r);
  return r.stdout;
}

interface Obj {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: Array<{ type?: string; status?: string }> };
}

function items(r: RunResult | undefined): Obj[] {
  if (!r || r.code !== 0) return [];
  const doc = parseJsonOutput(r.stdout) as { items?: Obj[] };
  return Array.isArray(doc.items) ? doc.items : [];
}

/** Our Plans in the cluster (an unfinished SUC run left them); [] when SUC is not installed. */
export async function ourPlans(kube: Kube, cluster: string): Promise<string[]> {
  const r = await kube.kubectl(['get', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, '-l', ourPlansSelector(cluster), '-o', 'json'], {
    timeoutMs: 60_000,
  });
  return items(r).map((p) => String(p.metadata?.name ?? ''));
}

export interface PauseResult {
  plans: string[];
  optedOut: string[];
  inFlight: string[];
}

/** `suc pause`. */
export async function pauseSuc(kube: Kube, cluster: string): Promise<PauseResult> {
  const plans = await ourPlans(kube, cluster);
  if (plans.length === 0) return { plans, optedOut: [], inFlight: [] };
  const [n, j] = await kube.batch(
    [
      ['get', 'nodes', '-l', `${OPT_IN_LABEL}=true`, '-o', 'json'],
      ['get', 'jobs.batch', '-n', SUC_NAMESPACE, '-o', 'json'],
    ],
    { timeoutMs: 60_000 },
  );
  const running = new Set(
    items(j)
      .filter(
        (x) =>
          plans.includes(String(x.metadata?.labels?.['upgrade.cattle.io/plan'] ?? '')) &&
          !(x.status?.conditions ?? []).some((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed')),
      )
      .map((x) => String(x.metadata?.labels?.['upgrade.cattle.io/node'] ?? '')),
  );
  const labelled = items(n).map((x) => String(x.metadata?.name ?? ''));
  const optedOut = labelled.filter((x) => !running.has(x));
  const cmds = [
    ...plans.map((p) => ['annotate', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, p, `${PAUSED_ANNOTATION}=true`, '--overwrite']),
    ...optedOut.map((x) => ['label', 'node', x, `${OPT_IN_LABEL}-`]),
  ];
  const rs = await kube.batch(cmds, { timeoutMs: 60_000 });
  rs.forEach((r, i) => {
    if (r.code !== 0) throw kube.error(cmds[i]!, r);
  });
  return { plans, optedOut, inFlight: labelled.filter((x) => running.has(x)) };
}

/** `suc resume`'s first step: the paused annotation goes (the run itself is continued by resume). */
export async function unpauseSuc(kube: Kube, cluster: string): Promise<string[]> {
  const plans = await ourPlans(kube, cluster);
  const cmds = plans.map((p) => ['annotate', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, p, `${PAUSED_ANNOTATION}-`]);
  if (cmds.length === 0) return plans;
  const rs = await kube.batch(cmds, { timeoutMs: 60_000 });
  rs.forEach((r, i) => {
    if (r.code !== 0) throw kube.error(cmds[i]!, r);
  });
  return plans;
}

export interface AbandonSucResult {
  plans: string[];
  uncordoned: string[];
}

/** `abandon` of a SUC run: the Plans go, the labels go, and the nodes the record says the run cordoned are uncordoned. */
export async function abandonSuc(kube: Kube, cluster: string, cordoned: readonly string[]): Promise<AbandonSucResult> {
  const plans = await ourPlans(kube, cluster);
  const n = await kube.kubectl(['get', 'nodes', '-o', 'json'], { timeoutMs: 60_000 });
  if (n.code !== 0) throw kube.error(['get', 'nodes', '-o', 'json'], n);
  const cmds: string[][] = [];
  if (plans.length > 0) cmds.push(['delete', 'plans.upgrade.cattle.io', '-n', SUC_NAMESPACE, '-l', ourPlansSelector(cluster)]);
  const uncordoned: string[] = [];
  for (const node of items(n)) {
    const name = String(node.metadata?.name ?? '');
    const labels = (node.metadata?.labels ?? {}) as Record<string, string>;
    const drop = Object.keys(labels).filter(
      (k) => k === OPT_IN_LABEL || (k.startsWith(PLAN_LABEL_PREFIX) && plans.includes(k.slice(PLAN_LABEL_PREFIX.length))),
    );
    if (drop.length > 0) cmds.push(['label', 'node', name, ...drop.map((k) => `${k}-`)]);
    const ours = cordoned.includes(name) || node.metadata?.annotations?.[CORDON_ANNOTATION] !== undefined;
    if (ours && node.spec?.unschedulable === true) {
      cmds.push(['uncordon', name], ['annotate', 'node', name, `${CORDON_ANNOTATION}-`]);
      uncordoned.push(name);
    }
  }
  if (cmds.length > 0) {
    const rs = await kube.batch(cmds, { timeoutMs: 60_000 });
    rs.forEach((r, i) => {
      if (r.code !== 0) throw kube.error(cmds[i]!, r);
    });
  }
  return { plans, uncordoned };
}
