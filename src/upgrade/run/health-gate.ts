/**
 * The health gate, shared by upgrade and install: after a node's install (or restart) it must
 * pass every check before the run goes on: the node Ready at the target kubelet version and its
 * k3s up (for a worker its kubelet answering /healthz through the apiserver; otherwise
 * `systemctl is-active` in the container); for a server also its own API answering `/readyz`;
 * with embedded etcd (several servers) its `/readyz/etcd` check and every server node Ready.
 */
import type { Clock } from '../../domain/clock.js';
import { InterruptedError, KubeError, RunError, ShellError } from '../../domain/errors.js';
import type { KubectlSite } from '../../kube/kube-error.js';
import { gateAnswer, gateFailed } from './gate-answer.js';
import type { Emit } from '../../domain/events.js';
import type { Step } from '../../domain/plan.js';
import { SERVICE } from '../../k3s/install-config.js';
import { KUBECTL, type Kube } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';
import type { Pct } from '../../proxmox/pct.js';
import type { RunResult } from '../../shell/shell.js';

const ONE = { singleLine: true };

/** What the gate uses: kubectl on the controller, pct per Proxmox host, and how to report and wait. */
export interface GateDeps {
  readonly kube: Kube;
  readonly pct: (host: string) => Pct;
  readonly emit: Emit;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  /** Retry backoff bounds, ms. */
  readonly poll: { readonly minMs: number; readonly maxMs: number };
}

export interface GateOptions {
  /** The kubelet version the node must report. */
  version: string;
  timeoutMs: number;
  /** The cluster's servers: with several (embedded etcd), every one must be Ready. */
  servers: readonly string[];
  /**
   * kubectl commands for a worker, run in the round trip that finds it healthy and only then
   * (its uncordon). @default none
   */
  tail?: readonly (readonly string[])[];
  /**
   * The node may not be registered yet (install, join: it appears once its agent starts), so
   * its NotFound is waited for. @default false: in an upgrade the node existed before its
   * install, and NotFound (like Forbidden or an unknown flag) fails the gate at once.
   */
  nodeMayBeNew?: boolean;
}

export type GateOutcome = { healthy: true; tail: RunResult[] } | { healthy: false; lastSeen: string };

/** The default poll bounds of the gate's retries. */
export const DEFAULT_POLL = { minMs: 200, maxMs: 1000 } as const;

/**
 * Waits for the health gate. The node part uses `kubectl wait` (a watch on the apiserver: a
 * node that is back is noticed at once) for the target kubelet version and then Ready, in chunks
 * of at most 10 s so progress can say what it last saw. For a worker, its kubelet's /healthz
 * through the apiserver and `tail` go in the same round trip, each only if all before passed;
 * for a server the rest of the gate (service, /readyz, etcd) is probed after. When the API does
 * not answer (the controller itself restarting) or the rest of the gate fails, it retries with
 * backoff. Ends healthy, or with the last thing seen at the timeout.
 */
export async function waitHealthy(step: Step, deps: GateDeps, o: GateOptions): Promise<GateOutcome> {
  const { clock, signal } = deps;
  const started = clock.now();
  let delay = deps.poll.minMs;
  let last = 'no answer yet';
  const conditions = [`--for=jsonpath={.status.nodeInfo.kubeletVersion}=${o.version}`, '--for=condition=Ready'];
  const agent = step.role === 'agent';
  const healthz = ['get', '--raw', `/api/v1/nodes/${step.node}/proxy/healthz`];
  for (;;) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('aborted');
    const left = o.timeoutMs - (clock.now() - started);
    const chunkS = Math.max(1, Math.min(10, Math.ceil(left / 1000)));
    let backoff = false;
    try {
      // Both waits in one round trip (stopping at the first that fails).
      const waitArgs = conditions.map((cond) => ['wait', cond, `node/${step.node}`, `--timeout=${chunkS}s`]);
      const results = await deps.kube.batch(agent ? [...waitArgs, healthz, ...(o.tail ?? [])] : waitArgs, {
        signal,
        timeoutMs: 2 * chunkS * 1000 + 30_000,
        stopOnFailure: true,
      });
      let met = 0;
      for (const [i, r] of results.slice(0, conditions.length).entries()) {
        if (r.code !== 0) {
          // Still waiting, worth asking again, or an answer no retry changes (fails the gate now).
          const answer = gateAnswer(step, { args: waitArgs[i]!, r, site: siteOf(deps.kube) }, { nodeMayBeNew: o.nodeMayBeNew ?? false });
          if (answer.kind === 'fail') throw answer.error;
          backoff = answer.kind === 'retry';
          if (answer.kind === 'retry') last = answer.last;
          break;
        }
        met++;
      }
      const kubelet = results[conditions.length];
      if (met === conditions.length && agent && kubelet?.code === 0) return { healthy: true, tail: results.slice(conditions.length + 1) };
      if (met === conditions.length) {
        // The watch just saw it Ready at the version: the gate checks the rest.
        const rest = await probeHealth(step, deps, { ...o, nodeConfirmed: true });
        if (rest === undefined && !agent) return { healthy: true, tail: [] };
        // Service active but the kubelet not answering through the apiserver: not yet.
        last = rest ?? `Ready, but its kubelet does not answer /healthz: ${kubelet ? failureReason(kubelet, ONE) : 'no answer'}`;
        backoff = true;
      } else if (!backoff) {
        last = (await probeHealth(step, deps, o)) ?? last;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof RunError) throw err; // the gate cannot pass (a permanent answer)
      backoff = true;
      last =
        err instanceof ShellError && err.unreachable
          ? `host ${err.host} unreachable`
          : `API not answering (${err instanceof Error ? err.message : String(err)})`;
    }
    const elapsed = clock.now() - started;
    deps.emit({ kind: 'wait', step, message: last, elapsedMs: elapsed });
    if (elapsed >= o.timeoutMs) return { healthy: false, lastSeen: last };
    if (backoff) {
      await clock.sleep(Math.min(delay, Math.max(0, o.timeoutMs - elapsed)), signal);
      delay = Math.min(deps.poll.maxMs, Math.round(delay * 1.5));
    }
  }
}

/** What the gate's failure says: the node, the version, how long, what was last seen. */
export function gateFailedMessage(step: Step, o: { version: string; timeoutMs: number; lastSeen: string }): string {
  return `node ${step.node} did not pass its health gate at ${o.version} within ${fmtSeconds(o.timeoutMs / 1000)} (last seen: ${o.lastSeen})`;
}

/** The command that shows why a node's k3s is unhealthy. */
export function serviceLogCommand(step: Step): string {
  return `pct exec ${step.vmid} -- journalctl -u ${SERVICE[step.role]} -n 50 (on ${step.host})`;
}

/** undefined when healthy, else what was seen (for progress and the final message). */
async function probeHealth(step: Step, deps: GateDeps, o: GateOptions & { nodeConfirmed?: boolean }): Promise<string | undefined> {
  const pct = deps.pct(step.host);
  const svc = SERVICE[step.role];
  const opts = { signal: deps.signal, timeoutMs: 30_000 };
  try {
    const a = await pct.exec(step.vmid, ['systemctl', 'is-active', svc], opts);
    const state = a.stdout.trim();
    if (a.code === 255) return `container ${step.vmid}: ${failureReason(a, ONE)}`;
    if (state !== 'active') return `service ${svc} is ${state || `unknown (exit ${a.code})`}`;
  } catch (err) {
    if (deps.signal?.aborted) throw err;
    return describe(err);
  }
  if (!o.nodeConfirmed) {
    let n;
    try {
      n = await deps.kube.node(step.node, opts);
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      // An answer no retry changes (Forbidden, an unknown flag) fails the gate now.
      if (err instanceof KubeError && err.permanent) throw gateFailed(step, err);
      return `API not answering (${describe(err)})`;
    }
    if (n === undefined) {
      if (o.nodeMayBeNew) return 'not registered in the cluster';
      const nf = { code: 1, stdout: '', stderr: `Error from server (NotFound): nodes "${step.node}" not found` };
      throw gateFailed(step, deps.kube.error(['get', 'node', step.node], nf), true);
    }
    if (!n.ready || n.kubeletVersionRaw !== o.version)
      return `${n.ready ? 'Ready' : 'NotReady'}, kubelet ${n.kubeletVersionRaw || 'unknown'}`;
  }
  if (step.role !== 'server') return undefined;
  const readyz = await pct.exec(step.vmid, [KUBECTL, 'get', '--raw', '/readyz'], opts);
  failFast(step, o, { args: ['get', '--raw', '/readyz'], r: readyz });
  if (readyz.code !== 0 || readyz.stdout.trim() !== 'ok') return `Ready, but its API /readyz answers: ${failureReason(readyz, ONE)}`;
  if (o.servers.length < 2) return undefined;
  const etcd = await pct.exec(step.vmid, [KUBECTL, 'get', '--raw', '/readyz/etcd'], opts);
  failFast(step, o, { args: ['get', '--raw', '/readyz/etcd'], r: etcd });
  if (etcd.code !== 0 || etcd.stdout.trim() !== 'ok') return `Ready, but its etcd check /readyz/etcd answers: ${failureReason(etcd, ONE)}`;
  const all = await deps.kube.nodes(opts).catch((err: unknown) => err as Error);
  if (all instanceof KubeError && all.permanent) throw gateFailed(step, all);
  if (all instanceof Error) return `API not answering (${all.message})`;
  const down = o.servers.filter((s) => all.get(s)?.ready !== true);
  if (down.length > 0) return `etcd members not Ready: ${down.join(', ')}`;
  return undefined;
}

function siteOf(kube: Kube): KubectlSite {
  return { controller: kube.controllerName, vmid: kube.controllerVmid, host: kube.pct.host };
}

/** Throws the gate's error when a failed kubectl run in the node itself gave a permanent answer. */
function failFast(step: Step, o: GateOptions, { args, r }: { args: string[]; r: RunResult }): void {
  if (r.code === 0 || r.code === 255) return;
  const answer = gateAnswer(
    step,
    { args, r, site: { controller: step.node, vmid: step.vmid, host: step.host } },
    { nodeMayBeNew: o.nodeMayBeNew ?? false },
  );
  if (answer.kind === 'fail') throw answer.error;
}

function describe(err: unknown): string {
  if (err instanceof ShellError && err.unreachable) return `host ${err.host} unreachable`;
  return err instanceof Error ? err.message : String(err);
}

function fmtSeconds(s: number): string {
  return s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}
