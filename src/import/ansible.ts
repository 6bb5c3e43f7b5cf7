/**
 * `pve-k3s import ansible`: read an Ansible inventory (INI or YAML, plus group_vars/<group>.yml beside
 * it, as Ansible does), map it, and render a validated pve-k3s inventory.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InventoryError } from '../domain/errors.js';
import { InventoryValidationError, sortIssues } from '../inventory/issues.js';
import { yamlLib } from '../inventory/deps.js';
import { parseInventory } from '../inventory/parse.js';
import { flowMapOf } from '../inventory/render.js';
import { parseIni } from './ini.js';
import { parseAnsibleYaml } from './yaml.js';
import { ensureGroup, type AnsibleInventory } from './model.js';
import { mapInventory, type FoundContainers, type ImportResult } from './map.js';

export interface ImportOutput extends ImportResult {
  text: string;
  format: 'ini' | 'yaml';
}

/** INI unless the name says YAML or the text looks like a YAML mapping. */
export function detectFormat(file: string, text: string): 'ini' | 'yaml' {
  const ext = extname(file).toLowerCase();
  if (ext === '.yml' || ext === '.yaml' || ext === '.json') return 'yaml';
  if (ext === '.ini' || ext === '.cfg') return 'ini';
  const first = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'));
  return first === undefined || first.startsWith('[') || !/^[^\s=]+:(\s|$)/.test(first) ? (first === '---' ? 'yaml' : 'ini') : 'yaml';
}

export async function importAnsible(
  file: string,
  opts: {
    cluster?: string | undefined;
    outFile: string;
    home?: string;
    /** What `discover` found on the Proxmox hosts of `--discover`: hosts with no vmid are matched to it. */
    found?: FoundContainers;
  },
): Promise<ImportOutput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InventoryError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      hint: 'give the path of an Ansible inventory (hosts.ini, inventory.yml)',
    });
  }
  const format = detectFormat(file, text);
  const { inventory, issues } = format === 'ini' ? parseIni(text, file) : parseAnsibleYaml(text, file);
  if (issues.length > 0) throw new InventoryValidationError(file, sortIssues(issues));
  await readGroupVars(inventory, dirname(resolve(file)));
  if (inventory.hosts.size === 0) {
    throw new InventoryValidationError(file, [
      {
        line: 1,
        path: undefined,
        problem: 'declares no hosts',
        hint: 'An Ansible inventory lists hosts under groups ([server], [agent] / server: hosts:).',
      },
    ]);
  }
  const dirName = basename(dirname(resolve(file)));
  const defaultCluster = ['inventory', 'sample', '.', ''].includes(dirName) ? basename(file, extname(file)) : dirName;
  const result = mapInventory(inventory, {
    cluster: opts.cluster,
    defaultCluster: defaultCluster === 'hosts' || defaultCluster === 'inventory' ? 'k3s' : defaultCluster,
    found: opts.found,
  });
  if (result.unmatched.length > 0) {
    const n = result.unmatched.length;
    throw new InventoryError(
      `${file}: ${n} host${n === 1 ? '' : 's'} with no vmid matched no single container on ${opts.found!.searched.join(', ')}; nothing written`,
      {
        file,
        detail: result.unmatched.map((u) => `- ${u.where}: host ${u.ansibleHost}: ${u.why}`).join('\n'),
        hint: 'pve-k3s matches a host by its address (its name or ansible_host against net0 ip= and the node InternalIP) or its hostname; `pve-k3s discover --all --host <proxmox host> -o json` lists what each container has',
      },
    );
  }
  if (!result.nodes.some((n) => n.role === 'server')) {
    const why = result.notes.map((n) => `- ${n.where}: ${n.what}: ${n.why}`).join('\n');
    throw new InventoryError(`${file}: no k3s server could be mapped, so there is no valid inventory to write`, {
      file,
      hint: 'match the hosts to their containers with `pve-k3s import ansible FILE --discover <proxmox host>`, or give each k3s host vmid=<id> and pve_host=<proxmox node> (or list them under [proxmox])',
      ...(why ? { detail: why } : {}),
    });
  }
  const out = render(result, inventory, opts.found?.settings);
  parseInventory(out, opts.outFile, opts.home === undefined ? {} : { home: opts.home });
  return { ...result, text: out, format };
}

/** group_vars/<group>.yml|yaml|<group>/*.yml next to the inventory, as Ansible reads them. */
async function readGroupVars(inv: AnsibleInventory, dir: string): Promise<void> {
  const gv = join(dir, 'group_vars');
  const entries = await readdir(gv, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const group = e.name.replace(/\.(ya?ml)$/, '');
    if (!inv.groups.has(group) || (e.isFile() && group === e.name)) continue;
    const files = e.isDirectory()
      ? (await readdir(join(gv, e.name))).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(gv, e.name, f))
      : [join(gv, e.name)];
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      const { source, issues } = (await import('../inventory/yaml-source.js')).parseYaml(text);
      if (issues.length > 0) throw new InventoryValidationError(f, sortIssues(issues));
      const Y = yamlLib();
      const root = source.doc.contents;
      if (root === null) continue;
      if (!Y.isMap(root))
        throw new InventoryValidationError(f, [
          { line: 1, path: undefined, problem: 'group variables must be a mapping of names to values', hint: 'Write name: value lines.' },
        ]);
      const g = ensureGroup(inv, group, 0);
      for (const p of root.items) {
        const key = Y.isScalar(p.key) ? String(p.key.value) : String(p.key);
        if (g.vars.has(key)) continue; // inventory vars win over group_vars files here (a simplification)
        const v = p.value;
        const range = (p.key as { range?: [number, number, number] } | null)?.range;
        g.vars.set(key, { value: Y.isNode(v) ? v.toJSON() : v, line: range ? source.lines.linePos(range[0]).line : 1, file: f });
      }
      inv.extraFiles.push(f);
    }
  }
}

function render(r: ImportResult, inv: AnsibleInventory, settings: FoundContainers['settings']): string {
  const Y = yamlLib();
  const doc = new Y.Document();
  const flowMap = (entries: [string, Record<string, unknown>][]) => flowMapOf(doc, entries);
  const body: Record<string, unknown> = {
    cluster: r.cluster,
    hosts: flowMap(r.hosts.map((h) => [h.name, h.entry ?? { ssh: h.ssh }])),
    nodes: flowMap(r.nodes.map((n) => [n.name, { vmid: n.vmid, host: n.host, role: n.role }])),
  };
  const k3s = { ...(settings?.k3s ?? {}), ...(r.k3sVersion ? { version: r.k3sVersion } : {}) };
  if (Object.keys(k3s).length > 0) body['k3s'] = k3s;
  for (const [name, section] of Object.entries(settings?.sections ?? {})) body[name] = section;
  doc.contents = doc.createNode(body);
  const sources = [inv.file, ...inv.extraFiles.map((f) => f)].join(', ');
  doc.commentBefore = [
    ` pve-k3s inventory (format: docs/inventory.md), imported from ${sources} by \`pve-k3s import ansible\`.`,
    ...r.matches.map((m) => ` ${m.ansibleHost} is ${m.name} (CT ${m.vmid} on ${m.host}), matched by ${m.by}`),
    ...r.comments.map((c) => ` ${c}`),
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
