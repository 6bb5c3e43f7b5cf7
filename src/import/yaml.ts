/**
 * Ansible's YAML inventory: groups mapping to `hosts:` (host -> vars), `vars:` and `children:`
 * (nested groups). Any other key in a group is an error, as in Ansible. Problems name the line.
 */
import type { Node as YamlNode, YAMLMap } from 'yaml';
import { yamlLib } from '../inventory/deps.js';
import type { InventoryIssue } from '../inventory/issues.js';
import { keyText, parseYaml } from '../inventory/yaml-source.js';
import { addHost, emptyInventory, ensureGroup, type AnsibleInventory, type Located } from './model.js';
import { expandRange } from './ini.js';

export function parseAnsibleYaml(text: string, file: string): { inventory: AnsibleInventory; issues: InventoryIssue[] } {
  const Y = yamlLib();
  const inv = emptyInventory(file, 'yaml');
  const { source, issues } = parseYaml(text);
  if (issues.length > 0) return { inventory: inv, issues };
  const lineOf = (n: unknown, fallback = 1): number => {
    const r = (n as YamlNode | null | undefined)?.range;
    return r ? source.lines.linePos(r[0]).line : fallback;
  };
  const root = source.doc.contents;
  if (root === null || (Y.isScalar(root) && (root.value === null || root.value === undefined))) {
    issues.push({
      line: 1,
      path: undefined,
      problem: 'the file is empty',
      hint: 'An Ansible YAML inventory maps groups (all:, k3s_cluster:, ...) to hosts:, vars: and children:.',
    });
    return { inventory: inv, issues };
  }
  if (!Y.isMap(root)) {
    issues.push({
      line: lineOf(root),
      path: undefined,
      problem: 'the top level must map group names to groups (all:, k3s_cluster:, ...)',
      hint: 'See https://docs.ansible.com/ansible/latest/inventory_guide/intro_inventory.html',
    });
    return { inventory: inv, issues };
  }
  const varsOf = (map: unknown, path: string[], into: Map<string, Located<unknown>>) => {
    if (map === null || map === undefined || (Y.isScalar(map) && map.value === null)) return;
    if (!Y.isMap(map))
      return issues.push({
        line: lineOf(map),
        path,
        problem: 'must be a mapping of variable names to values',
        hint: 'Write name: value lines under it.',
      });
    for (const p of map.items) {
      const v = p.value;
      const value = v === null ? null : Y.isNode(v) ? (v.tag === '!vault' ? { vault: true } : v.toJSON()) : v;
      into.set(keyText(p.key), { value, line: lineOf(p.key) });
    }
  };
  /** The group of one `name: {...}` pair, below the group path `parent`. */
  const visitGroup = (pair: { key: unknown; value: unknown }, parent: string[]) => {
    const name = keyText(pair.key);
    const { value: node, key: keyNode } = pair;
    const path = [...parent, name];
    const g = ensureGroup(inv, name, lineOf(keyNode));
    if (node === null || (Y.isScalar(node) && node.value === null)) return;
    if (!Y.isMap(node))
      return issues.push({
        line: lineOf(node, lineOf(keyNode)),
        path,
        problem: 'a group must be a mapping with hosts:, vars: or children:',
        hint: `Write ${name}: followed by indented hosts:, vars: or children:.`,
      });
    for (const p of (node as YAMLMap).items) {
      const key = keyText(p.key);
      const at = [...path, key];
      if (key === 'hosts') {
        const hosts = p.value;
        if (hosts === null || (Y.isScalar(hosts) && hosts.value === null)) continue;
        if (!Y.isMap(hosts)) {
          issues.push({
            line: lineOf(hosts, lineOf(p.key)),
            path: at,
            problem: `must be a mapping of host names (each followed by ":"), got ${Y.isSeq(hosts) ? 'a list' : 'a value'}`,
            hint: 'Write each host as "name:" on its own line, with its variables indented under it.',
          });
          continue;
        }
        for (const hp of hosts.items) {
          const hname = keyText(hp.key);
          const names = expandRange(hname);
          if (!names) {
            issues.push({
              line: lineOf(hp.key),
              path: [...at, hname],
              problem: 'bad host range',
              hint: 'A range is [start:end], e.g. node[01:03].',
            });
            continue;
          }
          for (const n of names) {
            const h = addHost(inv, n, lineOf(hp.key));
            if (!g.hosts.includes(n)) g.hosts.push(n);
            varsOf(hp.value, [...at, hname], h.vars);
          }
        }
      } else if (key === 'vars') {
        varsOf(p.value, at, g.vars);
      } else if (key === 'children') {
        const ch = p.value;
        if (ch === null || (Y.isScalar(ch) && ch.value === null)) continue;
        if (!Y.isMap(ch)) {
          issues.push({
            line: lineOf(ch, lineOf(p.key)),
            path: at,
            problem: 'must be a mapping of group names',
            hint: 'Write each child group as "name:" with its own hosts:, vars: or children:.',
          });
          continue;
        }
        for (const cp of ch.items) {
          const cname = keyText(cp.key);
          if (!g.children.includes(cname)) g.children.push(cname);
          visitGroup(cp, at);
        }
      } else {
        issues.push({
          line: lineOf(p.key),
          path: at,
          problem: `unknown key in group ${name}; a group has hosts:, vars: and children:`,
          hint: `Move "${key}" under ${name}.vars if it is a variable, or under hosts: if it is a host.`,
        });
      }
    }
  };
  for (const p of root.items) visitGroup(p, []);
  return { inventory: inv, issues };
}
