/**
 * From an Ansible inventory to a pve-k3s inventory. Roles come from the groups k3s playbooks
 * use (k3s-io: server/agent; techno-tim: master/node), vmids and Proxmox hosts from host vars
 * (`vmid`, `pve_host`, ...) or techno-tim's `proxmox_lxc_ct_ids` with its `[proxmox]` group.
 * Everything that cannot be mapped is listed, with why and what to do; secrets are never copied.
 */
import type { Role } from '../inventory/types.js';
import { groupsOf, hostVars, type AnsibleInventory } from './model.js';

export interface ImportNote {
  /** `<file>:<line>` or the file. */
  where: string;
  what: string;
  why: string;
}

export interface ImportedNode {
  name: string;
  vmid: number;
  host: string;
  role: Role;
}

export interface ImportResult {
  cluster: string;
  hosts: { name: string; ssh: string }[];
  nodes: ImportedNode[];
  k3sVersion: string | undefined;
  /** Comment lines for the written file (where the secrets are, what was guessed). */
  comments: string[];
  notes: ImportNote[];
}

/**
 * A group's role, read from the words of its name (split at _, - and .; case ignored): a server
 * group has one of SERVER_WORDS (k3s_controller, control_plane, masters, cp, ...), else an
 * agent group has one of AGENT_WORDS (k3s_workers, nodes, agent, ...). Server words win:
 * control_plane_nodes are servers. A name with proxmox or pve (pve_nodes) is the Proxmox hosts', not k3s. Other groups (all, k3s_cluster, ...) give no role.
 */
export const SERVER_WORDS = ['server', 'servers', 'master', 'masters', 'control', 'controller', 'controllers', 'controlplane', 'cp'];
export const AGENT_WORDS = ['agent', 'agents', 'node', 'nodes', 'worker', 'workers', 'minion', 'minions'];

export function groupRole(group: string): Role | undefined {
  const words = group.toLowerCase().split(/[_.-]+/);
  if (words.includes('proxmox') || words.includes('pve')) return undefined; // pve_nodes: the Proxmox hosts
  if (words.some((w) => SERVER_WORDS.includes(w))) return 'server';
  if (words.some((w) => AGENT_WORDS.includes(w))) return 'agent';
  return undefined;
}

const PROXMOX_GROUPS = ['proxmox', 'pve', 'proxmox_hosts', 'pve_hosts'];
const VMID_VARS = ['vmid', 'pve_vmid', 'proxmox_vmid', 'ct_id', 'ctid', 'pve_ctid', 'proxmox_ctid', 'lxc_id'];
const PVE_HOST_VARS = ['pve_host', 'pve_node', 'proxmox_host', 'proxmox_node', 'pve'];
const NAME_VARS = ['node_name', 'k3s_node_name', 'hostname'];
const SECRET_VARS = [
  'token',
  'k3s_token',
  'agent_token',
  'ansible_password',
  'ansible_become_pass',
  'ansible_become_password',
  'ansible_ssh_pass',
  'proxmox_api_token',
  'proxmox_password',
];
const K3S_VERSION = /^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Vars pve-k3s does not need, and why. */
const NOT_NEEDED: Record<string, string> = {
  api_endpoint: "pve-k3s keeps each node's own server URL (read from its k3s service)",
  apiserver_endpoint: "pve-k3s keeps each node's own server URL (read from its k3s service)",
  api_port: "pve-k3s keeps each node's own server URL",
  extra_server_args: "pve-k3s keeps each server's own arguments (read from its k3s service on every upgrade)",
  extra_agent_args: "pve-k3s keeps each agent's own arguments (read from its k3s service on every upgrade)",
  extra_args: "pve-k3s keeps each node's own arguments",
  extra_install_envs: "pve-k3s keeps each node's own service environment",
  extra_service_envs: "pve-k3s keeps each node's own service environment",
  systemd_dir: "pve-k3s uses the install script's default, /etc/systemd/system",
  k3s_server_location: 'pve-k3s reads the data directory from the node',
  proxmox_lxc_configure: 'pve-k3s doctor checks and fixes the LXC settings k3s needs',
  proxmox_lxc_ct_ids: 'used to find the vmids',
  proxmox_lxc_ssh_user: "pve-k3s reaches Proxmox hosts over SSH as the inventory's hosts.<name>.ssh says",
  cluster_context: 'used as the cluster name',
};

export function mapInventory(inv: AnsibleInventory, opts: { cluster?: string | undefined; defaultCluster: string }): ImportResult {
  const notes: ImportNote[] = [];
  const comments: string[] = [];
  const at = (line: number, file = inv.file) => (line > 0 ? `${file}:${line}` : file);
  const members = (is: (group: string) => boolean) => [...inv.hosts.keys()].filter((h) => groupsOf(inv, h).some(is));
  const servers = members((g) => groupRole(g) === 'server');
  const agents = members((g) => groupRole(g) === 'agent').filter((h) => !servers.includes(h));
  const proxmox = members((g) => PROXMOX_GROUPS.includes(g)).filter((h) => !servers.includes(h) && !agents.includes(h));
  for (const h of inv.hosts.keys()) {
    if (!servers.includes(h) && !agents.includes(h) && !proxmox.includes(h)) {
      notes.push({
        where: at(inv.hosts.get(h)!.line),
        what: `host ${h}`,
        why: `in no k3s group (a group named with a word such as server, master, controller, control, cp for servers, or agent, node, worker for agents) nor a proxmox group; left out`,
      });
    }
  }

  // Proxmox hosts: pve_host values, else the [proxmox] group.
  const pveHosts = new Map<string, string>();
  const sshFor = (name: string) => {
    const v = inv.hosts.has(name) ? hostVars(inv, name) : undefined;
    const host = v?.get('ansible_host')?.value;
    return `root@${typeof host === 'string' || typeof host === 'number' ? String(host) : name}`;
  };
  const ctIds = [...inv.groups.values()].map((g) => g.vars.get('proxmox_lxc_ct_ids')).find((x) => x !== undefined);
  const k3sHosts = [...servers, ...agents];
  const guessedIds = new Map<string, number>();
  if (ctIds && Array.isArray(ctIds.value)) {
    const ids = ctIds.value.map(Number);
    if (ids.length === k3sHosts.length && ids.every((n) => Number.isInteger(n))) {
      k3sHosts.forEach((h, i) => guessedIds.set(h, ids[i]!));
      comments.push(
        `vmids paired in order with the hosts from proxmox_lxc_ct_ids (${at(ctIds.line, ctIds.file)}): check them, or run \`pve-k3s discover --write <this file>\``,
      );
    } else {
      notes.push({
        where: at(ctIds.line, ctIds.file),
        what: 'proxmox_lxc_ct_ids',
        why: `${ids.length} ids for ${k3sHosts.length} k3s hosts: cannot tell which is which; set vmid=<id> on each host, or run \`pve-k3s discover\``,
      });
    }
  }

  const nodes: ImportedNode[] = [];
  const seenSecrets = new Set<string>();
  const reported = new Set<string>();
  for (const h of k3sHosts) {
    const vars = hostVars(inv, h);
    const role: Role = servers.includes(h) ? 'server' : 'agent';
    const line = inv.hosts.get(h)!.line;
    const pick = (names: string[]) => names.map((n) => vars.get(n)).find((v) => v !== undefined);
    const vmidVar = pick(VMID_VARS);
    const vmid = vmidVar ? Number(vmidVar.value) : guessedIds.get(h);
    if (vmid === undefined || !Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999) {
      notes.push({
        where: at(vmidVar?.line ?? line),
        what: `host ${h}`,
        why: vmidVar
          ? `vmid ${JSON.stringify(vmidVar.value)} is not a container ID (100 to 999999999); left out`
          : 'no vmid (set vmid=<id> on the host, or run `pve-k3s discover`); left out',
      });
      continue;
    }
    const pveVar = pick(PVE_HOST_VARS);
    let pve: string | undefined = typeof pveVar?.value === 'string' ? pveVar.value : undefined;
    if (pve === undefined && proxmox.length === 1) pve = proxmox[0];
    if (pve === undefined) {
      notes.push({
        where: at(line),
        what: `host ${h}`,
        why:
          proxmox.length > 1
            ? `several Proxmox hosts (${proxmox.join(', ')}) and no pve_host=<name> on it; left out`
            : 'no Proxmox host (set pve_host=<node> on it, or list the host under [proxmox]); left out',
      });
      continue;
    }
    if (!pveHosts.has(pve)) pveHosts.set(pve, sshFor(pve));
    const nameVar = pick(NAME_VARS);
    const name = typeof nameVar?.value === 'string' ? nameVar.value.toLowerCase() : h.toLowerCase();
    if (!NODE_NAME.test(name)) {
      notes.push({
        where: at(line),
        what: `host ${h}`,
        why: `"${name}" is not a valid Kubernetes node name; set node_name=<hostname> on it; left out`,
      });
      continue;
    }
    if (/^\d+(\.\d+){3}$/.test(name)) {
      comments.push(
        `${name} is an address: Kubernetes knows the node by its container's hostname; rename it (or run \`pve-k3s discover\`)`,
      );
    }
    nodes.push({ name, vmid, host: pve, role });
    for (const [k, v] of vars) {
      if (SECRET_VARS.includes(k)) {
        if (!seenSecrets.has(k)) {
          seenSecrets.add(k);
          comments.push(
            `${k} (${v.from}, ${at(v.line, v.file)}) was not copied: pve-k3s reads each node's token from the node itself (/var/lib/rancher/k3s/server/token on a server, the k3s service env file on an agent). Keep the Ansible copy in ansible-vault or a 0600 file outside the inventory.`,
          );
        }
        continue;
      }
      if (reported.has(k) || VMID_VARS.includes(k) || PVE_HOST_VARS.includes(k) || NAME_VARS.includes(k) || k === 'k3s_version') continue;
      reported.add(k);
      const why =
        NOT_NEEDED[k] ??
        (k.startsWith('ansible_') ? 'pve-k3s reaches containers with pct exec on their Proxmox host, not over SSH' : undefined);
      notes.push({ where: at(v.line, v.file), what: k, why: why ? `not needed: ${why}` : 'no pve-k3s equivalent; not mapped' });
    }
  }

  const versions = k3sHosts.map((h) => hostVars(inv, h).get('k3s_version')).filter((v) => v !== undefined);
  let k3sVersion: string | undefined;
  const first = versions[0];
  if (first) {
    if (typeof first.value === 'string' && K3S_VERSION.test(first.value)) k3sVersion = first.value;
    else
      notes.push({
        where: at(first.line, first.file),
        what: 'k3s_version',
        why: `${JSON.stringify(first.value)} is not a k3s version (v1.31.2+k3s1); not mapped, the target comes from the stable channel`,
      });
    if (versions.some((v) => v.value !== first.value))
      notes.push({ where: at(first.line), what: 'k3s_version', why: 'differs between hosts; took the first' });
  }
  const context = [...inv.groups.values()].map((g) => g.vars.get('cluster_context')?.value).find((v) => typeof v === 'string');
  const cluster = sanitizeCluster(opts.cluster ?? (typeof context === 'string' ? context : opts.defaultCluster));
  const lineOf = (w: string) => Number(/:(\d+)$/.exec(w)?.[1] ?? 0);
  notes.sort((a, b) => a.where.replace(/:\d+$/, '').localeCompare(b.where.replace(/:\d+$/, '')) || lineOf(a.where) - lineOf(b.where));
  return { cluster, hosts: [...pveHosts].map(([name, ssh]) => ({ name, ssh })), nodes, k3sVersion, comments, notes };
}

function sanitizeCluster(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return s === '' ? 'k3s' : s;
}
