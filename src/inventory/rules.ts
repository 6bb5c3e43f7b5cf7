/**
 * Rules that relate fields or constrain names, checked on the parsed YAML as it is (before
 * the schema accepts it), so one run reports them together with the schema's problems.
 * Each check skips values of the wrong type: the schema reports those.
 */
import { LAB_CHANNEL_URL } from './defaults.js';
import { parseTimeOfDay } from '../domain/window.js';
import type { Path } from './yaml-source.js';
import { isRecord } from '../domain/text.js';

export interface RuleIssue {
  path: Path;
  /** Point at the key (a bad name) or at the value. */
  at: 'key' | 'value';
  problem: string;
  hint: string;
}

/** DNS-1123 subdomain, the rule for Kubernetes node names. */
export const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Proxmox node name: a host name. */
export const HOST_NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const ACCESS_KEYS = ['ssh', 'local', 'lab'] as const;

export function checkRules(raw: Record<string, unknown>): RuleIssue[] {
  const hasLab = raw['lab'] !== undefined && raw['lab'] !== null;
  const hosts = isRecord(raw['hosts']) ? raw['hosts'] : undefined;
  const nodes = isRecord(raw['nodes']) ? raw['nodes'] : undefined;
  return [
    ...(hosts ? checkHosts(hosts, hasLab) : []),
    ...(nodes ? checkNodes(nodes, hosts) : []),
    ...checkController(raw['controller'], nodes),
    ...checkLabChannel(raw['k3s'], hasLab),
    ...checkUpgradePolicy(raw['upgrade'], nodes),
  ];
}

function checkHosts(hosts: Record<string, unknown>, hasLab: boolean): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (Object.keys(hosts).length === 0) {
    issues.push({
      path: ['hosts'],
      at: 'key',
      problem: 'declares no hosts',
      hint: 'Declare the Proxmox hosts that hold the containers, e.g. `pve1: { ssh: root@pve1 }`.',
    });
  }
  for (const [name, spec] of Object.entries(hosts)) {
    if (name.length > 253 || !HOST_NAME_RE.test(name)) {
      issues.push({
        path: ['hosts', name],
        at: 'key',
        problem: 'is not a valid Proxmox node name',
        hint: 'Use the node name that the Proxmox web UI or `hostname` on the host shows.',
      });
    }
    if (!isRecord(spec)) continue;
    const access = ACCESS_KEYS.filter((k) => present(spec[k]));
    if (access.length === 0) {
      issues.push({
        path: ['hosts', name],
        at: 'key',
        problem: 'says nothing about how to reach it: set exactly one of ssh, local or lab',
        hint: 'Write e.g. `{ ssh: root@pve1 }`, `{ local: true }` or `{ lab: true }`.',
      });
    }
    const [first, second] = access;
    if (first !== undefined && second !== undefined) {
      issues.push({
        path: ['hosts', name, second],
        at: 'key',
        problem: `sets both ${first} and ${second}: set exactly one of ssh, local or lab`,
        hint: `Keep the one that says how pve-k3s reaches ${name} and remove the other.`,
      });
    }
    for (const key of ['sshConfig', 'sshPersist']) {
      if (present(spec[key]) && !present(spec['ssh'])) {
        issues.push({
          path: ['hosts', name, key],
          at: 'key',
          problem: 'applies only to a host reached with ssh',
          hint: `Add \`ssh: <destination>\`, or remove ${key}.`,
        });
      }
    }
    if (spec['lab'] === true && !hasLab) {
      issues.push({
        path: ['hosts', name, 'lab'],
        at: 'key',
        problem: 'a lab host needs a top-level lab section',
        hint: 'Add `lab: { dir: <directory> }`, or run `pve-k3s lab init` to write a lab inventory.',
      });
    }
  }
  return issues;
}

function checkNodes(nodes: Record<string, unknown>, hosts: Record<string, unknown> | undefined): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const vmids = new Map<number, string>();
  let servers = 0;
  for (const [name, spec] of Object.entries(nodes)) {
    if (name.length > 253 || !NODE_NAME_RE.test(name)) {
      issues.push({
        path: ['nodes', name],
        at: 'key',
        problem: 'is not a valid Kubernetes node name',
        hint: "Use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (usually the container's hostname).",
      });
    }
    if (!isRecord(spec)) continue;
    if (spec['role'] === 'server') servers++;
    const host = spec['host'];
    if (typeof host === 'string' && host !== '' && hosts && !Object.hasOwn(hosts, host)) {
      const declared = Object.keys(hosts);
      issues.push({
        path: ['nodes', name, 'host'],
        at: 'value',
        problem: `"${host}" is not declared under hosts (${declared.length ? `declared: ${declared.join(', ')}` : 'none are declared'})`,
        hint: `Declare ${host} under hosts, or name the Proxmox host that holds this container.`,
      });
    }
    const vmid = spec['vmid'];
    if (typeof vmid === 'number' && Number.isInteger(vmid)) {
      const other = vmids.get(vmid);
      if (other === undefined) vmids.set(vmid, name);
      else
        issues.push({
          path: ['nodes', name, 'vmid'],
          at: 'value',
          problem: `${vmid} is also the vmid of node ${other}`,
          hint: 'Each node is its own container: give each node its container ID from `pct list`.',
        });
    }
  }
  if (servers === 0) {
    const empty = Object.keys(nodes).length === 0;
    issues.push({
      path: ['nodes'],
      at: 'key',
      problem: empty ? 'declares no nodes' : 'has no server: at least one node needs role: server',
      hint: empty
        ? 'Declare the containers, e.g. `k3s-ctrl-1: { vmid: 100, host: pve1, role: server }`.'
        : 'Set `role: server` on the control-plane node(s).',
    });
  }
  return issues;
}

function checkController(controller: unknown, nodes: Record<string, unknown> | undefined): RuleIssue[] {
  if (typeof controller !== 'string' || nodes === undefined) return [];
  const servers = Object.entries(nodes)
    .filter(([, spec]) => isRecord(spec) && spec['role'] === 'server')
    .map(([name]) => name);
  const serverList = servers.length ? `servers: ${servers.join(', ')}` : 'no node is a server';
  const hint = 'Name a node with `role: server`, or remove `controller` to use the first server.';
  if (!Object.hasOwn(nodes, controller)) {
    return [{ path: ['controller'], at: 'value', problem: `"${controller}" is not a node (${serverList})`, hint }];
  }
  const spec = nodes[controller];
  if (!isRecord(spec) || spec['role'] === 'server') return [];
  const role = spec['role'] === 'worker' ? 'agent' : String(spec['role']);
  return [
    {
      path: ['controller'],
      at: 'value',
      problem: `"${controller}" is ${role === 'agent' ? 'an agent' : `a ${role}`}, not a server (${serverList})`,
      hint,
    },
  ];
}

function checkLabChannel(k3s: unknown, hasLab: boolean): RuleIssue[] {
  if (!isRecord(k3s) || k3s['channelUrl'] !== LAB_CHANNEL_URL || hasLab) return [];
  return [
    {
      path: ['k3s', 'channelUrl'],
      at: 'value',
      problem: '`lab` needs a top-level lab section',
      hint: 'Add `lab: { dir: <directory> }`, or set an http(s) channel URL.',
    },
  ];
}

function checkUpgradePolicy(upgrade: unknown, nodes: Record<string, unknown> | undefined): RuleIssue[] {
  if (!isRecord(upgrade)) return [];
  const issues: RuleIssue[] = [];
  const canary = upgrade['canary'];
  if (typeof canary === 'string' && canary !== '' && nodes && !Object.hasOwn(nodes, canary)) {
    issues.push({
      path: ['upgrade', 'canary'],
      at: 'value',
      problem: `"${canary}" is not a node (nodes: ${Object.keys(nodes).join(', ')})`,
      hint: 'Name the node to upgrade first, or remove canary.',
    });
  }
  const w = upgrade['window'];
  if (isRecord(w) && typeof w['start'] === 'string' && typeof w['end'] === 'string') {
    const s = parseTimeOfDay(w['start']);
    const e = parseTimeOfDay(w['end']);
    if (s !== undefined && s === e)
      issues.push({
        path: ['upgrade', 'window', 'end'],
        at: 'value',
        problem: `is the same time as start (${w['start']}): the window would be empty`,
        hint: 'Give the window a length: e.g. start: "22:00", end: "04:00".',
      });
    else if (s === 24 * 60)
      issues.push({
        path: ['upgrade', 'window', 'start'],
        at: 'value',
        problem: '24:00 ends a day; a window cannot start there',
        hint: 'Write start: "00:00".',
      });
  }
  if (upgrade['alertFilterMatchOnly'] === true && !present(upgrade['alertFilterRegexp']))
    issues.push({
      path: ['upgrade', 'alertFilterMatchOnly'],
      at: 'key',
      problem: 'needs alertFilterRegexp: only the alerts it matches would block, and there is none',
      hint: 'Set alertFilterRegexp (e.g. "^KubeNode"), or remove alertFilterMatchOnly.',
    });
  for (const key of ['alertFilterRegexp', 'alertFiringOnly', 'alertFilterMatchOnly'] as const)
    if (present(upgrade[key]) && !present(upgrade['prometheusUrl']))
      issues.push({
        path: ['upgrade', key],
        at: 'key',
        problem: 'filters the alerts of prometheusUrl, which is not set',
        hint: 'Set prometheusUrl (e.g. http://prometheus.monitoring:9090), or remove it.',
      });
  return issues;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}
