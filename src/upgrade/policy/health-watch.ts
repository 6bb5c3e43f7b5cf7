/**
 * Watching a node's health over a while (the soak after a node, the canary's soak): the node
 * must stay Ready and no pod on it may restart. One round trip per look through the
 * controller's kubectl (`get node`, and the node's pods by field selector), polled on the
 * run's clock. `judgeHealth` is the pure part: what one look says against the first one.
 * Shared by the runner and any engine that soaks nodes (nothing here knows the plan).
 */
import type { Clock } from '../../domain/clock.js';
import { InterruptedError } from '../../domain/errors.js';
import { isRecord } from '../../domain/text.js';
import { parseJsonOutput, parseNode } from '../../kube/nodes.js';
import type { Kube } from '../../kube/kube.js';

/** What one look at a node found. */
export interface HealthLook {
  ready: boolean;
  /** The Ready condition's reason and message when not Ready. */
  why: string;
  /** Restarts per pod (`namespace/name` -> sum of its containers' restartCount). */
  restarts: Map<string, number>;
  /** Pods with a container waiting in CrashLoopBackOff. */
  crashLooping: string[];
}

/** The pods of `kubectl get pods -o json`: restarts and crash loops per pod. */
export function podRestarts(json: unknown): Pick<HealthLook, 'restarts' | 'crashLooping'> {
  const restarts = new Map<string, number>();
  const crashLooping: string[] = [];
  const items = isRecord(json) && Array.isArray(json['items']) ? json['items'] : [];
  for (const it of items) {
    if (!isRecord(it) || !isRecord(it['metadata'])) continue;
    const md = it['metadata'];
    const key = `${typeof md['namespace'] === 'string' ? md['namespace'] : 'default'}/${String(md['name'])}`;
    const status = isRecord(it['status']) ? it['status'] : {};
    const cs = [
      ...(Array.isArray(status['initContainerStatuses']) ? status['initContainerStatuses'] : []),
      ...(Array.isArray(status['containerStatuses']) ? status['containerStatuses'] : []),
    ].filter(isRecord);
    let n = 0;
    for (const c of cs) {
      if (typeof c['restartCount'] === 'number') n += c['restartCount'];
      const state = isRecord(c['state']) ? c['state'] : {};
      const waiting = isRecord(state['waiting']) ? state['waiting'] : undefined;
      if (waiting?.['reason'] === 'CrashLoopBackOff' && !crashLooping.includes(key)) crashLooping.push(key);
    }
    restarts.set(key, n);
  }
  return { restarts, crashLooping };
}

/** Why the node is not healthy now compared with the first look, or undefined when it is. */
export function judgeHealth(node: string, first: HealthLook, now: HealthLook): string | undefined {
  if (!now.ready) return `${node} is not Ready${now.why ? ` (${now.why})` : ''}`;
  for (const [pod, n] of now.restarts) {
    const before = first.restarts.get(pod) ?? n;
    if (n > before) return `pod ${pod} on ${node} restarted (restartCount ${before} -> ${n})`;
  }
  if (now.crashLooping.length > 0) return `pod ${now.crashLooping[0]} on ${node} is in CrashLoopBackOff`;
  return undefined;
}

export interface WatchDeps {
  readonly kube: Kube;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
}

export interface WatchOptions {
  seconds: number;
  /** Time between looks. @default 10 s */
  pollMs?: number;
  /** Looks in a row that may fail (the API not answering) before the watch gives up. @default 3 */
  maxFailures?: number;
  /** Told after each look: how long the node has been healthy. */
  onLook?: (healthyMs: number) => void;
}

export type WatchOutcome = { healthy: true; looks: number } | { healthy: false; why: string; afterMs: number };

/** One look: the node and its pods in one round trip. Throws with kubectl's reason when it cannot look. */
export async function lookAt(kube: Kube, node: string, signal?: AbortSignal): Promise<HealthLook> {
  const nodeArgs = ['get', 'node', node, '-o', 'json'];
  const podArgs = ['get', 'pods', '-A', '--field-selector', `spec.nodeName=${node}`, '-o', 'json'];
  const [n, p] = await kube.batch([nodeArgs, podArgs], signal ? { signal } : {});
  if (!n || n.code !== 0) throw kube.error(nodeArgs, n ?? { code: 1, stdout: '', stderr: 'no answer' });
  if (!p || p.code !== 0) throw kube.error(podArgs, p ?? { code: 1, stdout: '', stderr: 'no answer' });
  const item = parseJsonOutput(n.stdout);
  const facts = parseNode(item)?.[1];
  const conditions =
    isRecord(item) && isRecord(item['status']) && Array.isArray(item['status']['conditions']) ? item['status']['conditions'] : [];
  const ready = conditions.filter(isRecord).find((c) => c['type'] === 'Ready');
  const why =
    ready && ready['status'] !== 'True' ? [ready['reason'], ready['message']].filter((x) => typeof x === 'string').join(': ') : '';
  return { ready: facts?.ready ?? false, why, ...podRestarts(parseJsonOutput(p.stdout)) };
}

/**
 * Watches `node` for `seconds`: healthy when every look found it Ready with no pod restarting;
 * unhealthy at the first look that did not, or when `maxFailures` looks in a row could not be made.
 */
export async function watchHealth(node: string, deps: WatchDeps, o: WatchOptions): Promise<WatchOutcome> {
  const { clock, signal } = deps;
  const pollMs = o.pollMs ?? 10_000;
  const maxFailures = o.maxFailures ?? 3;
  const started = clock.now();
  const end = started + o.seconds * 1000;
  let first: HealthLook | undefined;
  let failures = 0;
  let looks = 0;
  for (;;) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('aborted');
    try {
      const look = await lookAt(deps.kube, node, signal);
      looks++;
      failures = 0;
      first ??= look;
      const bad = judgeHealth(node, first, look);
      if (bad) return { healthy: false, why: bad, afterMs: clock.now() - started };
      o.onLook?.(clock.now() - started);
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : err;
      if (++failures >= maxFailures)
        return {
          healthy: false,
          why: `cannot watch ${node}'s health: ${err instanceof Error ? err.message : String(err)}`,
          afterMs: clock.now() - started,
        };
    }
    const left = end - clock.now();
    if (left <= 0 && first !== undefined) return { healthy: true, looks };
    await clock.sleep(Math.max(1, Math.min(pollMs, left > 0 ? left : pollMs)), signal);
  }
}
