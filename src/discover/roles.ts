/**
 * A container's k3s role, from the services inside it (one `pct exec` each, batched per host),
 * or from its Proxmox tags when it cannot be looked into.
 */
import type { Role } from '../inventory/types.js';
import type { FoundContainer, ServiceProbe } from './types.js';

export const SERVER_UNIT = '/etc/systemd/system/k3s.service';
export const AGENT_UNIT = '/etc/systemd/system/k3s-agent.service';

/**
 * One `pct exec` per container: which unit files exist (install.sh writes them to
 * /etc/systemd/system), and whether they run. A fixed script: nothing from the container or the
 * user goes into it.
 */
export function probeArgv(vmid: number): string[] {
  return ['pct', 'exec', String(vmid), '--', 'sh', '-c', `ls ${SERVER_UNIT} ${AGENT_UNIT}; systemctl is-active k3s k3s-agent`];
}

const STATES = new Set(['active', 'inactive', 'activating', 'deactivating', 'failed', 'reloading', 'unknown']);

/** Parses the probe's stdout; undefined when it is not the probe's (pct failed). */
export function parseProbe(output: string): ServiceProbe | undefined {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const states = lines.filter((l) => STATES.has(l));
  if (states.length < 2) return undefined;
  return {
    server: lines.includes(SERVER_UNIT),
    agent: lines.includes(AGENT_UNIT),
    serverActive: states[states.length - 2],
    agentActive: states[states.length - 1],
  };
}

export type RoleVerdict = { role: Role; from: 'services' | 'tags'; warning?: string } | { role: undefined; reason: string };

/** The role a tag list names: `server`, or `agent`/`worker`; undefined when none or both. */
export function roleFromTags(tags: readonly string[] | undefined): Role | undefined {
  if (!tags) return undefined;
  const server = tags.includes('server') || tags.includes('k3s-server');
  const agent = ['agent', 'worker', 'k3s-agent', 'k3s-worker'].some((t) => tags.includes(t));
  return server === agent ? undefined : server ? 'server' : 'agent';
}

/** Services decide; tags only stand in when the container could not be looked into. */
export function decideRole(ct: FoundContainer, probe: ServiceProbe | undefined, probeProblem: string | undefined): RoleVerdict {
  const tagged = roleFromTags(ct.tags);
  if (probe) {
    let role: Role | undefined;
    let warning: string | undefined;
    if (probe.server && probe.agent) {
      // A bare install.sh re-run on a worker adds a server beside the agent: trust what runs.
      role = probe.agentActive === 'active' && probe.serverActive !== 'active' ? 'agent' : 'server';
      warning = `${ct.name} (CT ${ct.vmid}) has both k3s and k3s-agent services; taken as ${role} (the one that runs)`;
    } else if (probe.server) role = 'server';
    else if (probe.agent) role = 'agent';
    if (role === undefined)
      return { role: undefined, reason: 'no k3s service inside (no k3s.service or k3s-agent.service in /etc/systemd/system)' };
    if (tagged !== undefined && tagged !== role) {
      warning = `${ct.name} (CT ${ct.vmid}) is tagged ${tagged} but runs the k3s ${role === 'server' ? 'server' : 'agent'} service; taken as ${role}`;
    }
    return warning === undefined ? { role, from: 'services' } : { role, from: 'services', warning };
  }
  if (tagged !== undefined) return { role: tagged, from: 'tags' };
  return { role: undefined, reason: `${probeProblem ?? 'not looked into'}, and no server/agent tag says its role` };
}
