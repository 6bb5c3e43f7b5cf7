/** The install step (the k3s install script, with the node's own role, URL, token and args) and the restart step. */
import { RunError, ShellError } from '../../domain/errors.js';
import { humanDuration } from '../../domain/duration.js';
import type { RunResult } from '../../shell/shell.js';
import type { Step } from '../../domain/plan.js';
import { SERVICE, buildInstallScript, redact, secretValues } from '../../k3s/install-config.js';
import { failureReason } from '../../shell/reason.js';
import type { RunDeps, RunState } from './context.js';
import { readInstallConfig } from './node-config.js';
import { backupDatastore, isEtcdMember, snapshotName, takeSnapshot } from './snapshots.js';

/** pct's own failures (exit 255), as opposed to the command's. */
const PCT_ERROR = /container '\d+' not running!|Configuration file '[^']*' does not exist/;

export async function install(step: Step, deps: RunDeps, state: RunState): Promise<string> {
  const pct = deps.pct(step.host);
  // Read ahead while the previous node upgraded (one round trip off the critical path); if that
  // read failed, read again now so the error is this step's own.
  const config = (await deps.readAhead.takeConfig(step.node)) ?? (await readInstallConfig(pct, step, { signal: deps.signal }));
  const notes: string[] = [];
  if (deps.snapshot.enabled && !isEtcdMember(deps.inventory, step.node)) {
    const name = snapshotName(step.version);
    const how = await takeSnapshot(pct, { node: step.node, vmid: step.vmid, name, step: step.id, signal: deps.signal });
    if (step.from !== undefined) state.rollbackTo.set(step.node, { snapshot: name, version: step.from });
    deps.note(`snapshot ${name} ${how === 'taken' ? 'taken' : 'already there'}`, step.node);
    notes.push(`snapshot ${name}${how === 'exists' ? ' (already there)' : ''}`);
  }
  if (step.role === 'server' && deps.servers.length === 1) {
    const where = await backupDatastore(pct, {
      node: step.node,
      vmid: step.vmid,
      version: step.version,
      step: step.id,
      signal: deps.signal,
    });
    deps.note(`datastore backup in ${where}`, step.node);
    notes.push(`datastore backup ${where}`);
  }
  const script = buildInstallScript({
    config,
    version: step.version,
    installScriptUrl: deps.inventory.k3s.installScriptUrl,
    scriptSaved: config.scriptSaved,
  });
  const r = await runInstallScript(step, () => pct.execScript(step.vmid, script, { signal: deps.signal, timeoutMs: INSTALL_SCRIPT_MS }), {
    secrets: secretValues(config.env),
  });
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

export async function restart(step: Step, deps: RunDeps): Promise<undefined> {
  const pct = deps.pct(step.host);
  const r = await pct.exec(step.vmid, ['systemctl', 'restart', SERVICE[step.role]], { signal: deps.signal, timeoutMs: 5 * 60_000 });
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

/** How long the install script may run (download and restart included). */
export const INSTALL_SCRIPT_MS = 15 * 60_000;

/**
 * Runs the install script; a timeout says what was waited for, in human units, with the last
 * thing the script said (secrets removed): "no answer from the install script in X after 15m".
 */
export async function runInstallScript(
  step: Step,
  run: () => Promise<RunResult>,
  /** `secrets`: removed from what is said; `limitMs`: the timeout `run` has, for the message. */
  { secrets, limitMs = INSTALL_SCRIPT_MS }: { secrets: readonly string[]; limitMs?: number },
): Promise<RunResult> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ShellError && err.timedOut)) throw err;
    const said = redact(err.detail ?? '', secrets)
      .trim()
      .split('\n')
      .filter(Boolean)
      .pop();
    throw new RunError(
      `no answer from the install script in ${step.node} after ${humanDuration(limitMs)}${said ? `; last output: ${said}` : ''}`,
      {
        node: step.node,
        step: step.id,
        hint: `the script may still run in CT ${step.vmid} (on ${step.host}): look at it there (ps, journalctl -u ${SERVICE[step.role]}), then run pve-k3s resume`,
        cause: err,
      },
    );
  }
}
