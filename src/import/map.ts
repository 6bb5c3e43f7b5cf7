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

/** An address a container has, and where it was read (`net0`..., `InternalIP`). */
export interface FoundAddress {
  address: string;
  from: string;
}

/**
 * What Proxmox holds, to match Ansible hosts with no vmid against (`import ansible --discover`):
 * the k3s nodes `discover` found, the containers it skipped (to say why a match is refused), and
 * the inventory entries of the Proxmox hosts it reached.
 */
export interface FoundContainers {
  /** The Proxmox hosts searched, as given (for messages). */
  searched: string[];
  nodes: { name: string; vmid: number; host: string; role: Role; addresses: FoundAddress[] }[];
  skipped: { vmid: number; name: string; host: string; reason: string; addresses: FoundAddress[] }[];
  /** hosts.<name> entries for the Proxmox hosts reached ({ ssh: root@pve1 }...). */
  hostEntries: Map<string, Record<string, unknown>>;
  /** Top-level settings the inventory needs to reach those hosts: shell providers' sections (`lab: { dir }`) and `k3s:` sources. */
  settings?: { sections?: Record<string, Record<string, unknown>>; k3s?: Record<string, unknown> };
}

/** An Ansible host matched to a container, and by what. */
export interface ImportMatch {
  where: string;
  ansibleHost: string;
  name: string;
  vmid: number;
  host: string;
  /** `address 10.0.20.20 (net0)`, `hostname k3s-ctrl-1`. */
  by: string;
}

/** An Ansible host with no vmid that no single container matched. */
export interface Unmatched {
  where: string;
  ansibleHost: string;
  why: string;
}

export interface ImportResult {
  cluster: string;
  /** The Proxmox hosts: `entry` is the hosts.<name> value when it is not `{ ssh }` (discovered). */
  hosts: { name: string; ssh: string; entry?: Record<string, unknown> }[];
  nodes: ImportedNode[];
  k3sVersion: string | undefined;
  /** Comment lines for the written file (where the secrets are, what was guessed). */
  comments: string[];
  notes: ImportNote[];
  /** Hosts matched to discovered containers (with `found`). */
  matches: ImportMatch[];
  /** Hosts with no vmid no single container matched (with `found`); the import must not write. */
  unmatched: Unmatched[];
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

export function mapInventory(
  inv: AnsibleInventory,
  opts: { cluster?: string | undefined; defaultCluster: string; found?: FoundContainers | undefined },
): ImportResult {
  const found = opts.found;
  const matches: ImportMatch[] = [];
  const unmatched: Unmatched[] = [];
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
  const pveHosts = new Map<string, Record<string, unknown>>();
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
      if (!found)
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
    if (!vmidVar && found) {
      const m = matchHost({ name: h, vars, pairedId: guessedIds.get(h), where: at(line) }, found);
      const twin = 'why' in m ? undefined : matches.find((x) => x.vmid === m.vmid);
      if ('why' in m) unmatched.push(m);
      else if (twin)
        unmatched.push({
          where: m.where,
          ansibleHost: h,
          why: `matches CT ${m.vmid} (${m.name}) on ${m.host} by ${m.by}, which host ${twin.ansibleHost} (${twin.where}) matches too; list each container once`,
        });
      else {
        matches.push(m);
        const ctRole = found.nodes.find((n) => n.vmid === m.vmid)!.role;
        if (ctRole !== role)
          notes.push({
            where: at(line),
            what: `host ${h}`,
            why: `in a k3s ${role} group, but CT ${m.vmid} runs the k3s ${ctRole === 'server' ? 'server (k3s.service)' : 'agent (k3s-agent.service)'}; took ${ctRole}`,
          });
        if (!pveHosts.has(m.host)) pveHosts.set(m.host, found.hostEntries.get(m.host) ?? { ssh: `root@${m.host}` });
        nodes.push({ name: m.name, vmid: m.vmid, host: m.host, role: ctRole });
        reportVars(vars);
      }
      continue;
    }
    const vmid = vmidVar ? Number(vmidVar.value) : guessedIds.get(h);
    if (vmid === undefined || !Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999) {
      notes.push({
        where: at(vmidVar?.line ?? line),
        what: `host ${h}`,
        why: vmidVar
          ? `vmid ${JSON.stringify(vmidVar.value)} is not a container ID (100 to 999999999); left out`
          : 'no vmid (set vmid=<id> on the host, or match it to its container with --discover <proxmox host>); left out',
      });
      continue;
    }
    const pveVar = pick(PVE_HOST_VARS);
    let pve: string | undefined = typeof pveVar?.value === 'string' ? pveVar.value : undefined;
    if (pve === undefined && found) pve = found.nodes.find((n) => n.vmid === vmid)?.host;
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
    if (!pveHosts.has(pve)) pveHosts.set(pve, found?.hostEntries.get(pve) ?? { ssh: sshFor(pve) });
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
    reportVars(vars);
  }

  function reportVars(vars: ReturnType<typeof hostVars>): void {
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
  const hosts = [...pveHosts].map(([name, entry]) =>
    typeof entry['ssh'] === 'string' && Object.keys(entry).length === 1 ? { name, ssh: entry['ssh'] } : { name, ssh: '', entry },
  );
  return { cluster, hosts, nodes, k3sVersion, comments, notes, matches, unmatched };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The one discovered container an Ansible host names: by an address (the host's name or its
 * ansible_host against the containers' config addresses and their nodes' InternalIPs) or by a
 * hostname (the host's name, ansible_host or node_name against the Kubernetes node name, also
 * without the domain). A vmid paired from proxmox_lxc_ct_ids only narrows the candidates. Never
 * guesses: none or several is an Unmatched with the reason and what to do.
 */
function matchHost(
  {
    name: h,
    vars,
    pairedId,
    where,
  }: {
    name: string;
    vars: ReturnType<typeof hostVars>;
    pairedId: number | undefined;
    /** The host's place in the Ansible inventory, for the answer. */
    where: string;
  },
  found: FoundContainers,
): ImportMatch | Unmatched {
  const keys = [h, vars.get('ansible_host')?.value, ...NAME_VARS.map((n) => vars.get(n)?.value)]
    .filter((v): v is string => typeof v === 'string' && v !== '')
    .map((v) => v.toLowerCase());
  const uniqueKeys = [...new Set(keys)];
  const short = (n: string) => (IPV4.test(n) || n.includes(':') ? n : (n.split('.')[0] ?? n));
  const byOf = (c: { name: string; addresses: FoundAddress[] }): string | undefined => {
    for (const k of uniqueKeys) {
      const a = c.addresses.find((x) => x.address === k);
      if (a) return `address ${a.address} (${a.from})`;
    }
    for (const k of uniqueKeys) {
      if (IPV4.test(k) || k.includes(':')) continue;
      if (c.name.toLowerCase() === k || short(c.name.toLowerCase()) === short(k)) return `hostname ${c.name}`;
    }
    return undefined;
  };
  const candidates = found.nodes.map((n) => ({ n, by: byOf(n) })).filter((c) => c.by !== undefined);
  const ct = (n: { vmid: number; name: string; host: string }) => `CT ${n.vmid} (${n.name}) on ${n.host}`;
  const named = uniqueKeys.join(' / ');
  const todo = 'set vmid=<id> and pve_host=<proxmox node> on it';
  const narrowed = pairedId === undefined ? candidates : candidates.filter((c) => c.n.vmid === pairedId);
  if (narrowed.length === 1) {
    const { n, by } = narrowed[0]!;
    return { where, ansibleHost: h, name: n.name, vmid: n.vmid, host: n.host, by: by! };
  }
  if (narrowed.length > 1) {
    return {
      where,
      ansibleHost: h,
      why: `ambiguous: ${narrowed.map((c) => `${ct(c.n)} by ${c.by!}`).join(', ')}; ${todo}, or give each container its own address`,
    };
  }
  if (candidates.length > 0) {
    return {
      where,
      ansibleHost: h,
      why: `proxmox_lxc_ct_ids pairs it with CT ${pairedId}, but its address or name matches ${candidates.map((c) => ct(c.n)).join(', ')}; fix proxmox_lxc_ct_ids, or ${todo}`,
    };
  }
  const skipped = found.skipped.filter((s) => byOf(s) !== undefined);
  if (skipped.length > 0) {
    return {
      where,
      ansibleHost: h,
      why: `matches only containers that are not k3s nodes: ${skipped.map((s) => `${ct(s)}: ${s.reason}`).join('; ')}`,
    };
  }
  return {
    where,
    ansibleHost: h,
    why: `no container on ${found.searched.join(', ')} has the address or hostname ${named}; add --discover for the Proxmox host that holds it, or ${todo}`,
  };
}

function sanitizeCluster(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return s === '' ? 'k3s' : s;
}
