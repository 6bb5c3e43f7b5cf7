/** What each plan step does on the cluster. Every step is safe to run twice. */
import { RunError, ShellError, PveK3sError } from '../core/errors.js';
import { CORDON_ANNOTATION } from '../core/facts.js';
import type { Step } from '../core/plan-types.js';
import type { Kube } from '../kube/kube.js';
import { oneLine } from '../kube/kube.js';
import type { Pct } from '../proxmox/pct.js';
import { buildBatch, parseBatch } from '../proxmox/batch.js';
import type { Inventory } from '../inventory/types.js';
import type { Emit } from './events.js';
import {
  SERVICE,
  UNIT_DIR,
  buildInstallScript,
  parseEnvFile,
  parseExecStart,
  redact,
  secretValues,
  type NodeInstallConfig,
} from './install-config.js';

export interface StepContext {
  inventory: Inventory;
  kube: Kube;
  pct: (host: string) => Pct;
  emit: Emit;
  signal: AbortSignal | undefined;
  /** Poll interval bounds for readiness, ms. @default {min: 200, max: 1000} */
  poll: { minMs: number; maxMs: number };
  /** Whether the node was cordoned before the run by someone else (so it stays cordoned). */
  staysCordoned: (node: string) => boolean;
  /** Nodes this run has cordoned and not yet uncordoned. */
  cordoned: Set<string>;
}

export async function runStep(step: Step, ctx: StepContext): Promise<string | undefined> {
  switch (step.kind) {
    case 'drain':
      return drain(step, ctx);
    case 'install':
      return install(step, ctx);
    case 'restart':
      return restart(step, ctx);
    case 'wait-ready':
      return waitReady(step, ctx);
    case 'uncordon':
      return uncordon(step, ctx);
  }
}

async function drain(step: Step, ctx: StepContext): Promise<string | undefined> {
  const { kube, inventory } = ctx;
  if (!ctx.staysCordoned(step.node)) {
    // Recorded in the cluster BEFORE cordoning: any later run knows this node is ours to uncordon.
    const a = await kube.annotate(step.node, CORDON_ANNOTATION, step.version, { signal: ctx.signal });
    if (a.code !== 0) throw new RunError(`cannot annotate node ${step.node} before draining it: ${oneLine(a)}`, step.node, step.id, { hint: `check the cluster from ${kube.controllerName} (pve-k3s status)`, detail: a.stderr || a.stdout });
    ctx.cordoned.add(step.node);
  }
  const timeoutMs = (inventory.drain.timeoutSeconds + 60) * 1000;
  const r = await kube.drain(step.node, inventory.drain, { signal: ctx.signal, timeoutMs });
  if (r.code !== 0) {
    throw new RunError(`draining ${step.node} failed: ${oneLine(r)}`, step.node, step.id, {
      hint: inventory.drain.disableEviction
        ? 'look at the pods that block it (kubectl get pods -A -o wide); set drain.force for pods without a controller'
        : 'a PodDisruptionBudget may block eviction: raise drain.timeout, or set drain.disableEviction (deletes pods, bypassing PDBs)',
      detail: r.stdout + r.stderr,
    });
  }
  return undefined;
}

/** Reads the node's unit and env files in one round trip. */
export async function readInstallConfig(pct: Pct, step: Step, signal?: AbortSignal): Promise<NodeInstallConfig> {
  const files = ['k3s.service', 'k3s.service.env', 'k3s-agent.service', 'k3s-agent.service.env'];
  const batch = buildBatch(files.map((f) => ({ argv: ['cat', `${UNIT_DIR}/${f}`] })));
  const r = await pct.execScript(step.vmid, batch.script, { signal, timeoutMs: 60_000 });
  const results = parseBatch(r.stdout, batch);
  if (results.every((x) => x.code === -1)) {
    throw new RunError(`cannot read the k3s service files of ${step.node} (exit ${r.code}): ${oneLine(r)}`, step.node, step.id, { hint: `check the container: pct exec ${step.vmid} -- ls ${UNIT_DIR} on ${step.host}`, detail: r.stderr });
  }
  const [server, serverEnv, agent, agentEnv] = results.map((x) => (x.code === 0 ? x.stdout : undefined));
  if (server !== undefined && agent !== undefined) {
    throw new RunError(
      `node ${step.node} has both a k3s (server) and a k3s-agent service: a worker was turned into a server, probably by running the install script without K3S_URL`,
      step.node,
      step.id,
      { hint: `repair it before upgrading: in CT ${step.vmid}, run /usr/local/bin/k3s-uninstall.sh (removes the stray server) and restart k3s-agent; see pve-k3s doctor` },
    );
  }
  const unit = step.role === 'server' ? server : agent;
  const envText = step.role === 'server' ? serverEnv : agentEnv;
  if (unit === undefined) {
    const found = server !== undefined ? 'a k3s server' : agent !== undefined ? 'a k3s agent' : 'no k3s service';
    throw new RunError(`node ${step.node} is a ${step.role} in the inventory but runs ${found}`, step.node, step.id, {
      hint: `fix the node's role in the inventory (${step.node}: role), or repair the node`,
    });
  }
  const exec = parseExecStart(unit);
  if (!exec || exec.command !== step.role) {
    throw new RunError(`node ${step.node}: cannot read the role from ${UNIT_DIR}/${SERVICE[step.role]}.service (ExecStart is ${exec ? `"${exec.command}"` : 'missing'})`, step.node, step.id, { hint: 'repair the unit file or reinstall the node' });
  }
  const env = envText === undefined ? {} : parseEnvFile(envText);
  if (step.role === 'agent' && (env['K3S_URL'] === undefined || (env['K3S_TOKEN'] === undefined && env['K3S_TOKEN_FILE'] === undefined))) {
    throw new RunError(`node ${step.node}: its env file has no K3S_URL and token, so the install script would not keep it an agent`, step.node, step.id, {
      hint: `check ${UNIT_DIR}/k3s-agent.service.env in CT ${step.vmid}; it must set K3S_URL and K3S_TOKEN`,
    });
  }
  return { role: step.role, args: exec.args, env };
}

async function install(step: Step, ctx: StepContext): Promise<string | undefined> {
  const pct = ctx.pct(step.host);
  const config = await readInstallConfig(pct, step, ctx.signal);
  const script = buildInstallScript({ config, version: step.version, installScriptUrl: ctx.inventory.k3s.installScriptUrl });
  const r = await pct.execScript(step.vmid, script, { signal: ctx.signal, timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    const secrets = secretValues(config.env);
    const out = redact(r.stdout + r.stderr, secrets);
    const last = out.trim().split('\n').filter(Boolean).pop() ?? `exit status ${r.code}`;
    throw new RunError(`the k3s install script failed in ${step.node} (exit ${r.code}): ${last}`, step.node, step.id, {
      hint: `the node still runs its old k3s; see the output with --verbose, fix the cause and run pve-k3s upgrade again`,
      detail: out,
    });
  }
  return `role ${config.role} kept${config.args.length ? ` with ${config.args.length} extra arg(s)` : ''}`;
}

async function restart(step: Step, ctx: StepContext): Promise<string | undefined> {
  const pct = ctx.pct(step.host);
  const r = await pct.exec(step.vmid, ['systemctl', 'restart', SERVICE[step.role]], { signal: ctx.signal, timeoutMs: 5 * 60_000 });
  if (r.code !== 0) {
    throw new RunError(`restarting ${SERVICE[step.role]} in ${step.node} failed: ${oneLine(r)}`, step.node, step.id, { hint: `look at journalctl -u ${SERVICE[step.role]} in CT ${step.vmid}`, detail: r.stdout + r.stderr });
  }
  return undefined;
}

/**
 * Waits for the node to report the target kubelet version and then Ready, with `kubectl wait`
 * (a watch on the apiserver: a node that is back is noticed at once, no polling interval), in
 * chunks of at most 10 s so progress can say what it last saw. When the API does not answer
 * (the controller itself restarting), it retries with backoff.
 */
async function waitReady(step: Step, ctx: StepContext): Promise<string | undefined> {
  const timeoutMs = ctx.inventory.upgrade.readyTimeoutSeconds * 1000;
  const started = Date.now();
  let delay = ctx.poll.minMs;
  let last = 'no answer yet';
  const conditions = [`--for=jsonpath={.status.nodeInfo.kubeletVersion}=${step.version}`, '--for=condition=Ready'];
  for (;;) {
    if (ctx.signal?.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
    const left = timeoutMs - (Date.now() - started);
    const chunkS = Math.max(1, Math.min(10, Math.ceil(left / 1000)));
    let apiDown = false;
    try {
      let met = 0;
      for (const cond of conditions) {
        const r = await ctx.kube.kubectl(['wait', cond, `node/${step.node}`, `--timeout=${chunkS}s`], { signal: ctx.signal, timeoutMs: chunkS * 1000 + 30_000 });
        if (r.code !== 0) {
          const text = oneLine(r);
          apiDown = !/timed out waiting/.test(text);
          last = apiDown ? (/not found/i.test(text) ? 'not registered in the cluster' : `API not answering (${text})`) : last;
          break;
        }
        met++;
      }
      if (met === conditions.length) return undefined;
      if (!apiDown) last = await describeNode(step, ctx);
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      apiDown = true;
      last = err instanceof ShellError && err.unreachable ? `host ${err.host} unreachable` : `API not answering (${err instanceof Error ? err.message : String(err)})`;
    }
    const elapsed = Date.now() - started;
    ctx.emit({ kind: 'wait', step, message: last, elapsedMs: elapsed });
    if (elapsed >= timeoutMs) {
      throw new RunError(`node ${step.node} did not become Ready at ${step.version} within ${fmtSeconds(timeoutMs / 1000)} (last seen: ${last})`, step.node, step.id, {
        hint: `look at the node: pct exec ${step.vmid} -- journalctl -u ${SERVICE[step.role]} -n 50 (on ${step.host}); raise upgrade.readyTimeout if it is just slow; run pve-k3s upgrade again to resume`,
      });
    }
    if (apiDown) {
      await sleep(Math.min(delay, Math.max(0, timeoutMs - elapsed)), ctx.signal);
      delay = Math.min(ctx.poll.maxMs, Math.round(delay * 1.5));
    }
  }
}

/** What the node looks like now, for progress and error messages. */
async function describeNode(step: Step, ctx: StepContext): Promise<string> {
  try {
    const n = await ctx.kube.node(step.node, { signal: ctx.signal, timeoutMs: 30_000 });
    return n === undefined ? 'not registered in the cluster' : `${n.ready ? 'Ready' : 'NotReady'}, kubelet ${n.kubeletVersionRaw || 'unknown'}`;
  } catch (err) {
    return `API not answering (${err instanceof Error ? err.message : String(err)})`;
  }
}

async function uncordon(step: Step, ctx: StepContext): Promise<string | undefined> {
  const { kube } = ctx;
  const r = await kube.uncordon(step.node, { signal: ctx.signal, timeoutMs: 60_000 });
  if (r.code !== 0) throw new RunError(`uncordoning ${step.node} failed: ${oneLine(r)}`, step.node, step.id, { hint: `run kubectl uncordon ${step.node}`, detail: r.stderr });
  const a = await kube.annotate(step.node, CORDON_ANNOTATION, undefined, { signal: ctx.signal, timeoutMs: 60_000 });
  if (a.code !== 0) ctx.emit({ kind: 'log', level: 'warn', node: step.node, message: `could not remove the ${CORDON_ANNOTATION} annotation: ${oneLine(a)}` });
  ctx.cordoned.delete(step.node);
  return undefined;
}

function fmtSeconds(s: number): string {
  return s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function asPveError(err: unknown, step: Step): PveK3sError {
  if (err instanceof PveK3sError) return err;
  return new RunError(`${step.id}: ${err instanceof Error ? err.message : String(err)}`, step.node, step.id, { cause: err });
}
