/**
 * Gates before each node, as kured's: no node starts while a Prometheus alert is active
 * (`--prometheus-url`, filtered by `--alert-filter-regexp`, `--alert-firing-only`,
 * `--alert-filter-match-only`) or while pods matching a `--blocking-pod-selector` run on it.
 * Alerts are read from the operator's machine (GET <url>/api/v1/alerts), pods through the
 * controller's kubectl. A gate that cannot be checked is closed, with the reason. Waiting on a
 * closed gate has a timeout and says every few minutes what it waits for. The pure parts
 * (`blockingAlerts`, `blockingPods`) decide; the rest fetches. Shared by every engine.
 */
import type { Clock } from '../../domain/clock.js';
import { humanDuration } from '../../domain/duration.js';
import { InterruptedError, ResponseError } from '../../domain/errors.js';
import { isRecord } from '../../domain/text.js';
import type { Kube } from '../../kube/kube.js';
import { parseJsonOutput } from '../../kube/nodes.js';

export interface AlertFilter {
  /** kured's --alert-filter-regexp, matched (unanchored) against each alert's `alertname`. */
  regexp?: RegExp | undefined;
  /** kured's --alert-firing-only: pending alerts do not block. */
  firingOnly?: boolean | undefined;
  /** kured's --alert-filter-match-only: only alerts matching the regexp block (instead of those not matching). */
  matchOnly?: boolean | undefined;
}

export interface ActiveAlert {
  name: string;
  state: string;
}

/** The alerts of Prometheus's /api/v1/alerts answer; throws a TypeError when it is not one. */
export function parseAlerts(body: unknown): ActiveAlert[] {
  if (!isRecord(body) || body['status'] !== 'success' || !isRecord(body['data']) || !Array.isArray(body['data']['alerts']))
    throw new TypeError('the answer is not a Prometheus /api/v1/alerts document (status "success", data.alerts)');
  return body['data']['alerts'].filter(isRecord).map((a) => ({
    name: isRecord(a['labels']) && typeof a['labels']['alertname'] === 'string' ? a['labels']['alertname'] : '',
    state: typeof a['state'] === 'string' ? a['state'] : 'firing',
  }));
}

/**
 * The alerts that block, with kured's semantics: every active (pending or firing) alert, but
 * those whose name matches the regexp, which are ignored; with matchOnly, only those that
 * match; with firingOnly, pending alerts never block.
 */
export function blockingAlerts(alerts: readonly ActiveAlert[], f: AlertFilter): ActiveAlert[] {
  return alerts.filter((a) => {
    if (a.state !== 'firing' && a.state !== 'pending') return false;
    if (f.firingOnly && a.state !== 'firing') return false;
    if (!f.regexp) return true;
    const m = f.regexp.test(a.name);
    return f.matchOnly ? m : !m;
  });
}

/** `http://prometheus:9090`, never the user or password of the URL (nor its query). */
export function urlOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}

/** GET <base>/api/v1/alerts from this machine (credentials in the URL go as basic auth). Throws an Error saying why. */
export async function fetchAlerts(base: string, o: { signal?: AbortSignal | undefined; timeoutMs?: number } = {}): Promise<ActiveAlert[]> {
  const u = new URL(base);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (u.username || u.password)
    headers['authorization'] =
      `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  u.pathname = `${u.pathname.replace(/\/$/, '')}/api/v1/alerts`;
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const where = urlOrigin(base);
  let res: Response;
  try {
    res = await fetch(u, { headers, signal });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ResponseError(
      `cannot reach Prometheus at ${where}: ${timeout.aborted ? 'no answer within 10s' : (cause?.code ?? cause?.message ?? (err as Error).message)}`,
      { cause: err, hint: 'check --prometheus-url (upgrade.prometheusUrl) and that this machine reaches it' },
    );
  }
  const text = await res.text();
  if (!res.ok) throw new ResponseError(`Prometheus at ${where} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200).trim()}` : ''}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ResponseError(`Prometheus at ${where} answered something that is not JSON: ${text.slice(0, 100).trim()}`, { cause: err });
  }
  try {
    return parseAlerts(body);
  } catch (err) {
    throw new ResponseError(`Prometheus at ${where}: ${(err as Error).message}`, { cause: err });
  }
}

/** Running pods (not Succeeded, Failed or Unknown, as kured) of `kubectl get pods -o json`, as `namespace/name`. */
export function blockingPods(json: unknown): string[] {
  const items = isRecord(json) && Array.isArray(json['items']) ? json['items'] : [];
  return items.filter(isRecord).flatMap((p) => {
    const md = isRecord(p['metadata']) ? p['metadata'] : {};
    const phase = isRecord(p['status']) ? p['status']['phase'] : undefined;
    if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Unknown') return [];
    return [`${typeof md['namespace'] === 'string' ? md['namespace'] : 'default'}/${String(md['name'])}`];
  });
}

/** The pods on `node` matching any of the selectors (each selector an AND, the list an OR), in one round trip. */
export async function podsBlockingNode(
  kube: Kube,
  node: string,
  { selectors, signal }: { selectors: readonly string[]; signal?: AbortSignal | undefined },
): Promise<string[]> {
  const cmds = selectors.map((sel) => ['get', 'pods', '-A', '-l', sel, '--field-selector', `spec.nodeName=${node}`, '-o', 'json']);
  const results = await kube.batch(cmds, signal ? { signal } : {});
  const out = new Set<string>();
  results.forEach((r, i) => {
    if (r.code !== 0) throw kube.error(cmds[i]!, r);
    for (const p of blockingPods(parseJsonOutput(r.stdout))) out.add(`${p} (${selectors[i]})`);
  });
  return [...out];
}

export interface GateSettings {
  prometheusUrl?: string | undefined;
  alerts: AlertFilter;
  blockingPodSelectors: readonly string[];
}

/** Why the gate is closed for `node` now (each reason a line), or [] when it is open. A check that fails is a reason. */
export async function closedBecause(
  node: string,
  g: GateSettings,
  deps: { kube: Kube; signal?: AbortSignal | undefined },
): Promise<string[]> {
  const why: string[] = [];
  const [alerts, pods] = await Promise.allSettled([
    g.prometheusUrl ? fetchAlerts(g.prometheusUrl, { signal: deps.signal }) : Promise.resolve([]),
    g.blockingPodSelectors.length
      ? podsBlockingNode(deps.kube, node, { selectors: g.blockingPodSelectors, signal: deps.signal })
      : Promise.resolve([]),
  ]);
  if (deps.signal?.aborted) throw deps.signal.reason instanceof Error ? deps.signal.reason : new InterruptedError('aborted');
  if (alerts.status === 'rejected') why.push(`cannot check the alerts: ${(alerts.reason as Error).message}`);
  else {
    const b = blockingAlerts(alerts.value, g.alerts);
    if (b.length > 0) why.push(`alert${b.length > 1 ? 's' : ''} ${b.map((a) => `${a.name || '(no alertname)'} (${a.state})`).join(', ')}`);
  }
  if (pods.status === 'rejected') why.push(`cannot check the blocking pods on ${node}: ${(pods.reason as Error).message}`);
  else if (pods.value.length > 0) why.push(`pod${pods.value.length > 1 ? 's' : ''} on ${node}: ${pods.value.join(', ')}`);
  return why;
}

export interface GateWait {
  /** kubectl on the controller, for the blocking pods. */
  kube: Kube;
  clock: Clock;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** Time between checks. @default 30 s */
  pollMs?: number;
  /** Told when the gate closes, what it waits for when that changes, and every `heartbeatMs`. */
  heartbeat?: (message: string) => void;
  /** @default 5 min */
  heartbeatMs?: number;
}

export type GateOutcome = { open: true; waitedMs: number } | { open: false; why: string[]; waitedMs: number };

/** Checks the gate until it is open or `timeoutMs` has passed (then closed, with the last reasons). */
export async function waitForGates(node: string, g: GateSettings, w: GateWait): Promise<GateOutcome> {
  const { kube } = w;
  const started = w.clock.now();
  const pollMs = w.pollMs ?? 30_000;
  const every = w.heartbeatMs ?? 5 * 60_000;
  let said = '';
  let saidAt = 0;
  for (;;) {
    const why = await closedBecause(node, g, { kube, signal: w.signal });
    const waited = w.clock.now() - started;
    if (why.length === 0) return { open: true, waitedMs: waited };
    if (waited >= w.timeoutMs) return { open: false, why, waitedMs: waited };
    const text = why.join('; ');
    if (text !== said || w.clock.now() - saidAt >= every) {
      w.heartbeat?.(`${node} waits for its gate (${humanDuration(waited)} of at most ${humanDuration(w.timeoutMs)}): ${text}`);
      said = text;
      saidAt = w.clock.now();
    }
    await w.clock.sleep(Math.max(1, Math.min(pollMs, w.timeoutMs - waited)), w.signal);
  }
}
