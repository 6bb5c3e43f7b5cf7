/** What each plan step does on the cluster. Every step is safe to run twice. */
import { RunError, ShellError, PveK3sError, InterruptedError } from '../../domain/errors.js';
import { CORDON_ANNOTATION } from '../../domain/facts.js';
import type { Step } from '../../domain/plan.js';
import type { Kube } from '../../kube/kube.js';
import { drainArgs } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';
import type { RunResult } from '../../shell/shell.js';
import type { Pct } from '../../proxmox/pct.js';
import { buildBatch, parseBatch } from '../../proxmox/batch.js';
import type { Inventory } from '../../inventory/types.js';
import type { Emit } from '../../domain/events.js';
import { DRAIN_CHECK_COMMANDS, drainCheckFrom } from './drain-check.js';
import { probeHealth } from './health-gate.js';
import { backupDatastore, isEtcdMember, pruneSnapshots, snapshotName, takeSnapshot } from './snapshots.js';
import {
  SERVICE,
  UNIT_DIR,
  buildInstallScript,
  parseEnvFile,
  parseExecStart,
  redact,
  saveInstallScriptArgv,
  secretValues,
  type NodeInstallConfig,
} from '../../k3s/install-config.js';

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
  /** upgrade.snapshot and its retention. @default {enabled: false, retention: 2} */
  snapshot?: { enabled: boolean; retention: number };
  /** Snapshots this run took (or found, when resuming), by node. */
  snapshots?: Map<string, string>;
  /** The version each node ran before this run's install step, by node (for rollback). */
  fromVersion?: Map<string, string>;
  /** Set when the upgrade touched this node and it failed: it may be half way (for the final report). */
  journalNote?: (message: string, node?: string) => void;
  /** Install configs read ahead (while the previous node was upgrading), by node. */
  prefetched?: Map<string, Promise<NodeInstallConfig & { scriptSaved: boolean }>>;
  /** The pre-drain check's reads (pods, PDBs, nodes), taken ahead, by node. */
  drainChecks?: Map<string, Promise<RunResult[]>>;
  /** Workers uncordoned in the round trip of their health gate (their uncordon step then has nothing to do). */
  uncordonedWithGate?: Set<string>;
  /** Nodes this run has uncordoned (healthy again): a read ahead may still see them cordoned. */
  uncordonedByRun?: Set<string>;
}

/** A worker failed its health gate and was rolled back to its snapshot: it runs its old version, healthy. */
export class RolledBackError extends RunError {}

/** pct's own failures (exit 255), as opposed to the command's. */
const PCT_ERROR = /container '\d+' not running!|Configuration file '[^']*' does not exist/;

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
  // The cordon annotation is recorded in the cluster BEFORE the cordon, so any later run knows
  // this node is ours to uncordon.
  const ours = !ctx.staysCordoned(step.node);
  const annotate = ['annotate', 'node', step.node, `${CORDON_ANNOTATION}=${step.version}`, '--overwrite'];
  const annotated = (a: RunResult | undefined): void => {
    if (!ours) return;
    if (!a || a.code !== 0)
      throw new RunError(`cannot annotate node ${step.node} before draining it: ${a ? failureReason(a) : 'no answer'}`, {
        node: step.node,
        step: step.id,
        hint: `check the cluster from ${kube.controllerName} (pve-k3s status)`,
        detail: a ? a.stderr || a.stdout : undefined,
      });
    ctx.cordoned.add(step.node);
  };
  const timeoutMs = (inventory.drain.timeoutSeconds + 60) * 1000;
  // The pre-drain check's reads, taken ahead while the previous node upgraded (after its drain).
  const ahead = ctx.drainChecks?.get(step.node);
  ctx.drainChecks?.delete(step.node);
  const checks = ahead ? await ahead.catch(() => undefined) : undefined;
  let r: RunResult;
  if (checks && checks.every((x) => x.code === 0)) {
    for (const w of drainCheckFrom(step.node, checks, inventory.drain, ctx.uncordonedByRun))
      ctx.emit({ kind: 'log', node: step.node, ...w });
    if (ours) {
      // One round trip: the annotation, then the drain only if it was recorded.
      const [a, d] = await kube.batch([annotate, drainArgs(step.node, inventory.drain)], {
        signal: ctx.signal,
        timeoutMs,
        stopOnFailure: true,
      });
      annotated(a);
      r = d ?? { code: 1, stdout: '', stderr: 'no answer' };
    } else {
      r = await kube.drain(step.node, inventory.drain, { signal: ctx.signal, timeoutMs });
    }
  } else {
    // One round trip: the annotation and what the pre-drain check reads.
    const results = await kube.batch(ours ? [annotate, ...DRAIN_CHECK_COMMANDS] : DRAIN_CHECK_COMMANDS, {
      signal: ctx.signal,
      timeoutMs: 60_000,
    });
    if (ours) annotated(results.shift());
    for (const w of drainCheckFrom(step.node, results, inventory.drain)) ctx.emit({ kind: 'log', node: step.node, ...w });
    r = await kube.drain(step.node, inventory.drain, { signal: ctx.signal, timeoutMs });
  }
  if (
    r.code !== 0 &&
    !inventory.drain.disableEviction &&
    inventory.drain.onTimeout === 'disable-eviction' &&
    /global timeout reached|timed out/i.test(r.stderr)
  ) {
    const message = `drain of ${step.node} timed out on evictions (a PodDisruptionBudget?); retrying with --disable-eviction as drain.onTimeout says`;
    ctx.emit({ kind: 'log', level: 'warn', node: step.node, message });
    ctx.journalNote?.(message, step.node);
    r = await kube.drain(step.node, { ...inventory.drain, disableEviction: true }, { signal: ctx.signal, timeoutMs });
  }
  if (r.code !== 0) {
    throw new RunError(`draining ${step.node} failed: ${failureReason(r)}`, {
      node: step.node,
      step: step.id,
      hint: inventory.drain.disableEviction
        ? 'look at the pods that block it (kubectl get pods -A -o wide); set drain.force for pods without a controller'
        : 'a PodDisruptionBudget may block eviction: raise drain.timeout, set drain.onTimeout: disable-eviction (or --drain-on-timeout disable-eviction), or drain.disableEviction (deletes pods, bypassing PDBs)',
      detail: r.stdout + r.stderr,
    });
  }
  return undefined;
}

/**
 * Reads the node's unit and env files in one round trip; with `saveScriptFrom`, also saves the
 * install script from that URL (read ahead: the install then need not download it).
 */
export async function readInstallConfig(
  pct: Pct,
  step: Step,
  signal?: AbortSignal,
  saveScriptFrom?: string,
): Promise<NodeInstallConfig & { scriptSaved: boolean }> {
  const files = ['k3s.service', 'k3s.service.env', 'k3s-agent.service', 'k3s-agent.service.env'];
  const save = saveScriptFrom === undefined ? [] : [{ argv: saveInstallScriptArgv(saveScriptFrom) }];
  const batch = buildBatch([...files.map((f) => ({ argv: ['cat', `${UNIT_DIR}/${f}`] })), ...save]);
  const r = await pct.execScript(step.vmid, batch.script, { signal, timeoutMs: 60_000 });
  const all = parseBatch(r, batch);
  const results = all.slice(0, files.length);
  const scriptSaved = save.length > 0 && all[files.length]?.code === 0;
  if (results.every((x) => x.code === -1)) {
    throw new RunError(`cannot read the k3s service files of ${step.node} (exit ${r.code}): ${failureReason(r)}`, {
      node: step.node,
      step: step.id,
      hint: `check the container: pct exec ${step.vmid} -- ls ${UNIT_DIR} on ${step.host}`,
      detail: r.stderr,
    });
  }
  const [server, serverEnv, agent, agentEnv] = results.map((x) => (x.code === 0 ? x.stdout : undefined));
  if (server !== undefined && agent !== undefined) {
    throw new RunError(
      `node ${step.node} has both a k3s (server) and a k3s-agent service: a worker was turned into a server, probably by running the install script without K3S_URL`,
      {
        node: step.node,
        step: step.id,
        hint: `repair it before upgrading: in CT ${step.vmid}, run /usr/local/bin/k3s-uninstall.sh (removes the stray server) and restart k3s-agent; see pve-k3s doctor`,
      },
    );
  }
  const unit = step.role === 'server' ? server : agent;
  const envText = step.role === 'server' ? serverEnv : agentEnv;
  if (unit === undefined) {
    const found = server !== undefined ? 'a k3s server' : agent !== undefined ? 'a k3s agent' : 'no k3s service';
    throw new RunError(`node ${step.node} is a ${step.role} in the inventory but runs ${found}`, {
      node: step.node,
      step: step.id,
      hint: `fix the node's role in the inventory (${step.node}: role), or repair the node`,
    });
  }
  const exec = parseExecStart(unit);
  if (!exec || exec.command !== step.role) {
    throw new RunError(
      `node ${step.node}: cannot read the role from ${UNIT_DIR}/${SERVICE[step.role]}.service (ExecStart is ${exec ? `"${exec.command}"` : 'missing'})`,
      { node: step.node, step: step.id, hint: 'repair the unit file or reinstall the node' },
    );
  }
  const env = envText === undefined ? {} : parseEnvFile(envText);
  if (step.role === 'agent' && (env['K3S_URL'] === undefined || (env['K3S_TOKEN'] === undefined && env['K3S_TOKEN_FILE'] === undefined))) {
    throw new RunError(`node ${step.node}: its env file has no K3S_URL and token, so the install script would not keep it an agent`, {
      node: step.node,
      step: step.id,
      hint: `check ${UNIT_DIR}/k3s-agent.service.env in CT ${step.vmid}; it must set K3S_URL and K3S_TOKEN`,
    });
  }
  return { role: step.role, args: exec.args, env, scriptSaved };
}

async function install(step: Step, ctx: StepContext): Promise<string | undefined> {
  const pct = ctx.pct(step.host);
  // Read ahead while the previous node upgraded (one round trip off the critical path); if that
  // read failed, read again now so the error is this step's own.
  const ahead = ctx.prefetched?.get(step.node);
  ctx.prefetched?.delete(step.node);
  const config = (ahead ? await ahead.catch(() => undefined) : undefined) ?? (await readInstallConfig(pct, step, ctx.signal));
  const notes: string[] = [];
  if (step.from !== undefined) ctx.fromVersion?.set(step.node, step.from);
  if (ctx.snapshot?.enabled && !isEtcdMember(ctx.inventory, step.node)) {
    const name = snapshotName(step.version);
    const how = await takeSnapshot(pct, step.node, step.vmid, name, step.id, ctx.signal);
    ctx.snapshots?.set(step.node, name);
    ctx.journalNote?.(`snapshot ${name} ${how === 'taken' ? 'taken' : 'already there'}`, step.node);
    notes.push(`snapshot ${name}${how === 'exists' ? ' (already there)' : ''}`);
  }
  if (step.role === 'server' && ctx.inventory.nodes.filter((n) => n.role === 'server').length === 1) {
    const where = await backupDatastore(pct, step.node, step.vmid, step.version, step.id, ctx.signal);
    ctx.journalNote?.(`datastore backup in ${where}`, step.node);
    notes.push(`datastore backup ${where}`);
  }
  const script = buildInstallScript({
    config,
    version: step.version,
    installScriptUrl: ctx.inventory.k3s.installScriptUrl,
    scriptSaved: config.scriptSaved,
  });
  const r = await pct.execScript(step.vmid, script, { signal: ctx.signal, timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    if (r.code === 255 && PCT_ERROR.test(r.stdout + r.stderr)) {
      // pct itself failed (the container stopped or moved): the install script never ran.
      throw new RunError(`cannot run the install script in ${step.node} (exit 255): ${failureReason(r)}`, {
        node: step.node,
        step: step.id,
        hint: `the node still runs its old k3s; start the container (pct start ${step.vmid} on ${step.host}) and run pve-k3s resume`,
        detail: r.stdout + r.stderr,
      });
    }
    const secrets = secretValues(config.env);
    const out = redact(r.stdout + r.stderr, secrets);
    const reason = failureReason({ code: r.code, stdout: redact(r.stdout, secrets), stderr: redact(r.stderr, secrets) });
    throw new RunError(`the k3s install script failed in ${step.node} (exit ${r.code}): ${reason}`, {
      node: step.node,
      step: step.id,
      hint: `the node still runs its old k3s; see the output with --verbose, fix the cause and run pve-k3s resume`,
      detail: out,
    });
  }
  notes.push(`role ${config.role} kept${config.args.length ? ` with ${config.args.length} extra arg(s)` : ''}`);
  return notes.join('; ');
}

async function restart(step: Step, ctx: StepContext): Promise<string | undefined> {
  const pct = ctx.pct(step.host);
  const r = await pct.exec(step.vmid, ['systemctl', 'restart', SERVICE[step.role]], { signal: ctx.signal, timeoutMs: 5 * 60_000 });
  if (r.code !== 0) {
    throw new RunError(`restarting ${SERVICE[step.role]} in ${step.node} failed: ${failureReason(r)}`, {
      node: step.node,
      step: step.id,
      hint: `look at journalctl -u ${SERVICE[step.role]} in CT ${step.vmid}`,
      detail: r.stdout + r.stderr,
    });
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
  // A worker this run cordoned is uncordoned in the same round trip as the gate that lets it
  // (its uncordon step then has nothing left to do).
  const uncordonNow =
    ctx.uncordonedWithGate !== undefined && step.role === 'agent' && ctx.cordoned.has(step.node) && !ctx.staysCordoned(step.node);
  let tail: RunResult[] | undefined;
  const last = await waitHealthy(
    step,
    ctx,
    step.version,
    timeoutMs,
    uncordonNow ? { commands: uncordonCommands(step.node), done: (r) => (tail = r) } : undefined,
  );
  if (last === undefined) {
    if (tail && uncordoned(step, ctx, tail)) ctx.uncordonedWithGate?.add(step.node);
    await prune(step, ctx);
    return undefined;
  }
  const failed = `node ${step.node} did not pass its health gate at ${step.version} within ${fmtSeconds(timeoutMs / 1000)} (last seen: ${last})`;
  const journal = `pct exec ${step.vmid} -- journalctl -u ${SERVICE[step.role]} -n 50 (on ${step.host})`;
  const snap = ctx.snapshots?.get(step.node);
  const from = ctx.fromVersion?.get(step.node);
  if (snap !== undefined && from !== undefined && step.role === 'agent' && !isEtcdMember(ctx.inventory, step.node)) {
    const back = await rollback(step, ctx, snap, from, timeoutMs);
    if (back === undefined) {
      throw new RolledBackError(
        `${failed}; it was rolled back to snapshot ${snap} and runs ${from} again${ctx.staysCordoned(step.node) ? '' : ', uncordoned'}`,
        {
          node: step.node,
          step: step.id,
          hint: `find the cause before upgrading it again: ${journal}; the snapshot is kept; then run pve-k3s upgrade`,
        },
      );
    }
    throw new RunError(`${failed}; the rollback to snapshot ${snap} failed too: ${back}`, {
      node: step.node,
      step: step.id,
      hint: `repair the node by hand: pct rollback ${step.vmid} ${snap} && pct start ${step.vmid} (on ${step.host}), then ${onCtl(ctx, `uncordon ${step.node}`)}`,
    });
  }
  throw new RunError(failed, {
    node: step.node,
    step: step.id,
    hint: `look at the node: ${journal}; raise upgrade.readyTimeout if it is just slow; then run pve-k3s resume`,
  });
}

/**
 * Waits for the health gate. The node part uses `kubectl wait` (a watch on the apiserver: a
 * node that is back is noticed at once) for the target kubelet version and then Ready, in chunks
 * of at most 10 s so progress can say what it last saw. For a worker, its kubelet's /healthz
 * through the apiserver and `tail` (its uncordon) go in the same round trip, each only if all
 * before passed; for a server the rest of the gate (service, /readyz, etcd) is probed after.
 * When the API does not answer (the controller itself restarting) or the rest of the gate
 * fails, it retries with backoff (a worker's service state is then probed to say what was
 * seen). Returns undefined when healthy, else the last thing seen at the timeout.
 */
async function waitHealthy(
  step: Step,
  ctx: StepContext,
  version: string,
  timeoutMs: number,
  tail?: { commands: string[][]; done: (results: RunResult[]) => void },
): Promise<string | undefined> {
  const started = Date.now();
  let delay = ctx.poll.minMs;
  let last = 'no answer yet';
  const conditions = [`--for=jsonpath={.status.nodeInfo.kubeletVersion}=${version}`, '--for=condition=Ready'];
  // A worker's gate in the same round trip as the waits: its kubelet answering /healthz through
  // the apiserver (the k3s agent process is up and connected), then `tail` only if all passed.
  const agent = step.role === 'agent';
  const healthz = ['get', '--raw', `/api/v1/nodes/${step.node}/proxy/healthz`];
  for (;;) {
    if (ctx.signal?.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new InterruptedError('aborted');
    const left = timeoutMs - (Date.now() - started);
    const chunkS = Math.max(1, Math.min(10, Math.ceil(left / 1000)));
    let backoff = false;
    try {
      // Both waits in one round trip (stopping at the first that fails).
      const waitArgs = conditions.map((cond) => ['wait', cond, `node/${step.node}`, `--timeout=${chunkS}s`]);
      const results = await ctx.kube.batch(agent ? [...waitArgs, healthz, ...(tail?.commands ?? [])] : waitArgs, {
        signal: ctx.signal,
        timeoutMs: 2 * chunkS * 1000 + 30_000,
        stopOnFailure: true,
      });
      const waits = results.slice(0, conditions.length);
      let met = 0;
      for (const r of waits) {
        if (r.code !== 0) {
          const text = failureReason(r, { singleLine: true });
          backoff = !/timed out waiting/.test(text);
          if (backoff) last = /not found/i.test(text) ? 'not registered in the cluster' : `API not answering (${text})`;
          break;
        }
        met++;
      }
      const kubelet = results[conditions.length];
      if (met === conditions.length && agent && kubelet?.code === 0) {
        tail?.done(results.slice(conditions.length + 1));
        return undefined;
      }
      if (met === conditions.length) {
        // The watch just saw it Ready at the version: the gate checks the rest.
        const rest = await probeHealth(step, ctx, version, { nodeConfirmed: true });
        if (rest === undefined && agent) {
          // Service active but the kubelet not answering through the apiserver: not yet.
          last = `Ready, but its kubelet does not answer /healthz: ${kubelet ? failureReason(kubelet, { singleLine: true }) : 'no answer'}`;
          backoff = true;
        } else {
          if (rest === undefined) return undefined;
          last = rest;
          backoff = true;
        }
      } else if (!backoff) {
        last = (await probeHealth(step, ctx, version)) ?? last;
      }
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      backoff = true;
      last =
        err instanceof ShellError && err.unreachable
          ? `host ${err.host} unreachable`
          : `API not answering (${err instanceof Error ? err.message : String(err)})`;
    }
    const elapsed = Date.now() - started;
    ctx.emit({ kind: 'wait', step, message: last, elapsedMs: elapsed });
    if (elapsed >= timeoutMs) return last;
    if (backoff) {
      await sleep(Math.min(delay, Math.max(0, timeoutMs - elapsed)), ctx.signal);
      delay = Math.min(ctx.poll.maxMs, Math.round(delay * 1.5));
    }
  }
}

/** Worker rollback: pct rollback, pct start, wait healthy at the old version, uncordon. Returns an error message or undefined. */
async function rollback(step: Step, ctx: StepContext, snap: string, from: string, timeoutMs: number): Promise<string | undefined> {
  const pct = ctx.pct(step.host);
  ctx.emit({ kind: 'log', level: 'warn', node: step.node, message: `rolling ${step.node} back to snapshot ${snap} (${from})` });
  ctx.journalNote?.(`rollback to ${snap} started`, step.node);
  const r = await pct.shell.run(['pct', 'rollback', String(step.vmid), snap], { signal: ctx.signal, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) return `pct rollback: ${failureReason(r)}`;
  const st = await pct.shell.run(['pct', 'start', String(step.vmid)], { signal: ctx.signal, timeoutMs: 5 * 60_000 });
  if (st.code !== 0 && !/already running/.test(failureReason(st))) return `pct start: ${failureReason(st)}`;
  const last = await waitHealthy(step, ctx, from, timeoutMs);
  if (last !== undefined) return `not healthy at ${from} after the rollback (last seen: ${last})`;
  if (!ctx.staysCordoned(step.node)) await uncordon(step, ctx);
  ctx.journalNote?.(`rollback to ${snap} done: runs ${from}`, step.node);
  return undefined;
}

async function prune(step: Step, ctx: StepContext): Promise<void> {
  if (!ctx.snapshot?.enabled || !ctx.snapshots?.has(step.node)) return;
  const { deleted, failed } = await pruneSnapshots(ctx.pct(step.host), step.vmid, ctx.snapshot.retention, ctx.signal);
  if (deleted.length > 0)
    ctx.emit({
      kind: 'log',
      level: 'info',
      node: step.node,
      message: `deleted old snapshot(s) ${deleted.join(', ')} (upgrade.snapshotRetention ${ctx.snapshot.retention})`,
    });
  if (failed.length > 0)
    ctx.emit({ kind: 'log', level: 'warn', node: step.node, message: `could not delete old snapshot(s) ${failed.join(', ')}` });
}

function onCtl(ctx: StepContext, args: string): string {
  return `pct exec ${ctx.kube.controllerVmid} -- /usr/local/bin/kubectl ${args} (on ${ctx.kube.pct.host})`;
}

/** Uncordon, then drop the annotation that said the cordon was ours. */
function uncordonCommands(node: string): string[][] {
  return [
    ['uncordon', node],
    ['annotate', 'node', node, `${CORDON_ANNOTATION}-`, '--overwrite'],
  ];
}

/** Applies the results of uncordonCommands; false when the uncordon itself failed. */
function uncordoned(step: Step, ctx: StepContext, [r, a]: RunResult[]): boolean {
  if (!r || r.code !== 0) return false;
  ctx.uncordonedByRun?.add(step.node);
  if (!a) return true;
  if (a.code !== 0)
    ctx.emit({
      kind: 'log',
      level: 'warn',
      node: step.node,
      message: `could not remove the ${CORDON_ANNOTATION} annotation: ${failureReason(a)}`,
    });
  ctx.cordoned.delete(step.node);
  return true;
}

async function uncordon(step: Step, ctx: StepContext): Promise<string | undefined> {
  // Already done in the round trip of the health gate that let it.
  if (ctx.uncordonedWithGate?.delete(step.node)) return undefined;
  // One round trip.
  const results = await ctx.kube.batch(uncordonCommands(step.node), { signal: ctx.signal, timeoutMs: 60_000 });
  if (!uncordoned(step, ctx, results)) {
    const r = results[0];
    throw new RunError(`uncordoning ${step.node} failed: ${r ? failureReason(r) : 'no answer'}`, {
      node: step.node,
      step: step.id,
      hint: `run kubectl uncordon ${step.node}`,
      detail: r?.stdout,
    });
  }
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
  return new RunError(`${step.id}: ${err instanceof Error ? err.message : String(err)}`, { node: step.node, step: step.id, cause: err });
}
