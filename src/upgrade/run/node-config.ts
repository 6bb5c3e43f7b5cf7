/** A node's install configuration (role, server URL, token, extra args) read back from its unit and env files. */
import { RunError } from '../../domain/errors.js';
import type { Step } from '../../domain/plan.js';
import { failureReason } from '../../shell/reason.js';
import { buildBatch, parseBatch } from '../../proxmox/batch.js';
import type { Pct } from '../../proxmox/pct.js';
import {
  SERVICE,
  UNIT_DIR,
  parseEnvFile,
  parseExecStart,
  saveInstallScriptArgv,
  type NodeInstallConfig,
} from '../../k3s/install-config.js';

export type ReadConfig = NodeInstallConfig & { scriptSaved: boolean };

/**
 * Reads the node's unit and env files in one round trip; with `saveScriptFrom`, also saves the
 * install script from that URL (read ahead: the install then need not download it).
 */
export async function readInstallConfig(
  pct: Pct,
  step: Step,
  o: { signal?: AbortSignal | undefined; saveScriptFrom?: string | undefined } = {},
): Promise<ReadConfig> {
  const { signal, saveScriptFrom } = o;
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
      {
        node: step.node,
        step: step.id,
        hint: 'repair the unit file or reinstall the node',
      },
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
