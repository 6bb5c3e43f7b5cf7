/** An Ansible inventory as both its INI and YAML forms read: hosts, groups, vars, and where each came from. */
export interface Located<T> {
  value: T;
  line: number;
  /** Set when it came from another file than the inventory (group_vars). */
  file?: string;
}

export interface AnsibleHost {
  name: string;
  line: number;
  vars: Map<string, Located<unknown>>;
}

export interface AnsibleGroup {
  name: string;
  line: number;
  hosts: string[];
  children: string[];
  vars: Map<string, Located<unknown>>;
}

export interface AnsibleInventory {
  file: string;
  format: 'ini' | 'yaml';
  hosts: Map<string, AnsibleHost>;
  groups: Map<string, AnsibleGroup>;
  /** Files read besides the inventory (group_vars/all.yml...). */
  extraFiles: string[];
}

export function emptyInventory(file: string, format: 'ini' | 'yaml'): AnsibleInventory {
  return {
    file,
    format,
    hosts: new Map(),
    groups: new Map([
      ['all', group('all', 0)],
      ['ungrouped', group('ungrouped', 0)],
    ]),
    extraFiles: [],
  };
}

export function group(name: string, line: number): AnsibleGroup {
  return { name, line, hosts: [], children: [], vars: new Map() };
}

export function addHost(inv: AnsibleInventory, name: string, line: number): AnsibleHost {
  let h = inv.hosts.get(name);
  if (!h) {
    h = { name, line, vars: new Map() };
    inv.hosts.set(name, h);
  }
  return h;
}

export function ensureGroup(inv: AnsibleInventory, name: string, line: number): AnsibleGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = group(name, line);
    inv.groups.set(name, g);
  }
  return g;
}

/** Every group a host belongs to, directly or through children, plus `all`. */
export function groupsOf(inv: AnsibleInventory, host: string): string[] {
  const direct = [...inv.groups.values()].filter((g) => g.hosts.includes(host)).map((g) => g.name);
  const out = new Set<string>(['all']);
  const visit = (name: string) => {
    if (out.has(name)) return;
    out.add(name);
    for (const g of inv.groups.values()) if (g.children.includes(name)) visit(g.name);
  };
  for (const d of direct) visit(d);
  return [...out];
}

/** A host's variables as Ansible resolves them: `all`, then its groups (parents first), then its own. */
export function hostVars(inv: AnsibleInventory, host: string): Map<string, Located<unknown> & { from: string }> {
  const out = new Map<string, Located<unknown> & { from: string }>();
  const depth = (name: string, seen = new Set<string>()): number => {
    if (name === 'all' || seen.has(name)) return 0;
    seen.add(name);
    const parents = [...inv.groups.values()].filter((g) => g.children.includes(name));
    return 1 + Math.max(0, ...parents.map((p) => depth(p.name, seen)));
  };
  const groups = groupsOf(inv, host).sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  for (const g of groups) for (const [k, v] of inv.groups.get(g)?.vars ?? []) out.set(k, { ...v, from: `group ${g}` });
  for (const [k, v] of inv.hosts.get(host)?.vars ?? []) out.set(k, { ...v, from: `host ${host}` });
  return out;
}
