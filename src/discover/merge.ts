/**
 * Writes a discovery into an inventory: a new file, or an update of an existing one that keeps
 * everything the user wrote (settings, comments, order, names) and changes only what Proxmox
 * says is different: new hosts and nodes, a node's host after a migration, its role, its vmid.
 * Uses yaml's Document API, so comments survive; the result is validated before it is returned.
 */
import type { Document, YAMLMap } from 'yaml';
import type { HostAccess, Role } from '../inventory/types.js';
import { yamlLib } from '../inventory/deps.js';
import { InventoryValidationError, sortIssues } from '../inventory/issues.js';
import { parseInventory } from '../inventory/parse.js';
import { keyText, parseYaml } from '../inventory/yaml-source.js';
import type { Discovery } from './types.js';

export interface MergeOptions {
  /** The inventory file (for messages and relative paths). */
  file: string;
  /** Cluster name for a new file. @default "k3s" */
  cluster?: string;
  /** What hosts of shell providers need in the file: each provider's section, and in a new file its k3s sources. */
  providers?: readonly { name: string; settings: Readonly<Record<string, unknown>>; k3s: Readonly<Record<string, string>> | undefined }[];
  /** Home directory for `~` when validating. @default os.homedir() */
  home?: string;
}

export interface MergeResult {
  text: string;
  /** One line per change (or per thing left alone that the user should look at). */
  changes: string[];
}

const HEADER = [
  ' pve-k3s inventory (format: docs/inventory.md), written by `pve-k3s discover`.',
  ' Re-running discover updates hosts and nodes and keeps your own settings and comments.',
].join('\n');

/** Creates (existing undefined) or updates an inventory text from a discovery. */
export function mergeInventory(d: Discovery, existing: string | undefined, opts: MergeOptions): MergeResult {
  const Y = yamlLib();
  const changes: string[] = [];
  let doc: Document;
  if (existing === undefined || existing.trim() === '') {
    doc = new Y.Document({ cluster: opts.cluster ?? 'k3s' });
    doc.commentBefore = HEADER;
  } else {
    const { source, issues } = parseYaml(existing);
    if (issues.length > 0) throw new InventoryValidationError(opts.file, sortIssues(issues));
    doc = source.doc as unknown as Document;
    if (!Y.isMap(doc.contents)) {
      throw new InventoryValidationError(opts.file, [
        {
          line: 1,
          path: undefined,
          problem: 'the top level must be a mapping (cluster:, hosts:, nodes:, ...)',
          hint: 'Fix the file, or write the discovery to a new file.',
        },
      ]);
    }
  }
  const root = doc.contents as YAMLMap;
  const hosts = mapAt(doc, 'hosts', opts.file);
  const nodes = mapAt(doc, 'nodes', opts.file);
  const flow = (value: Record<string, unknown>) => {
    const node = doc.createNode(value);
    node.flow = true;
    return node;
  };

  for (const h of d.hosts) {
    if (hosts.items.some((p) => keyText(p.key) === h.name)) continue;
    const access = accessValue(h.access ?? { kind: 'ssh', destination: `root@${h.name}` });
    hosts.items.push(doc.createPair(h.name, flow(access)));
    changes.push(
      `added host ${h.name} (${Object.entries(access)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join(', ')})`,
    );
    const provider =
      h.access?.kind === 'provider' ? opts.providers?.find((p) => p.name === (h.access as { provider: string }).provider) : undefined;
    if (existing !== undefined && provider && !root.has(provider.name)) root.set(provider.name, { ...provider.settings });
  }

  const seen = new Set<number>();
  for (const pair of nodes.items) {
    const name = keyText(pair.key);
    const value = pair.value;
    if (!Y.isMap(value)) continue; // parseInventory reports it below
    const vmid = Number(scalar(value, 'vmid'));
    const found =
      d.nodes.find((n) => n.vmid === vmid) ??
      d.nodes.find((n) => n.name === name && !nodes.items.some((p) => Y.isMap(p.value) && Number(scalar(p.value, 'vmid')) === n.vmid));
    if (!found) {
      const skipped = d.skipped.find((s) => s.vmid === vmid);
      changes.push(
        skipped
          ? `${name} (CT ${vmid}): skipped by discovery (${skipped.reason}); left in the file`
          : `${name} (CT ${vmid} on ${String(scalar(value, 'host'))}) was not found on Proxmox; left in the file (remove it if the container is gone)`,
      );
      continue;
    }
    seen.add(found.vmid);
    if (found.vmid !== vmid) {
      setScalar(doc, { map: value, key: 'vmid' }, found.vmid);
      changes.push(`vmid of ${name}: ${vmid} -> ${found.vmid} (the container was recreated)`);
    } else if (found.name !== name) {
      changes.push(`CT ${vmid} is named ${name} in the file and ${found.name} on Proxmox; kept ${name}`);
    }
    const host = String(scalar(value, 'host'));
    if (host !== found.host) {
      setScalar(doc, { map: value, key: 'host' }, found.host);
      changes.push(`moved ${name} (CT ${found.vmid}): ${host} -> ${found.host}`);
    }
    const role = normalRole(scalar(value, 'role'));
    if (role !== found.role) {
      setScalar(doc, { map: value, key: 'role' }, found.role);
      changes.push(`role of ${name} (CT ${found.vmid}): ${role ?? 'none'} -> ${found.role}`);
    }
  }
  const names = new Set(nodes.items.map((p) => keyText(p.key)));
  for (const n of d.nodes) {
    if (seen.has(n.vmid)) continue;
    if (names.has(n.name)) {
      changes.push(`CT ${n.vmid} on ${n.host} is named ${n.name}, which the file already uses for another container; not added`);
      continue;
    }
    nodes.items.push(doc.createPair(n.name, flow({ vmid: n.vmid, host: n.host, role: n.role })));
    changes.push(`added node ${n.name} (CT ${n.vmid} on ${n.host}, ${n.role}${n.roleFrom === 'tags' ? ' from its tags' : ''})`);
  }

  if (existing === undefined) {
    for (const p of opts.providers ?? []) {
      if (!d.hosts.some((h) => h.access?.kind === 'provider' && h.access.provider === p.name)) continue;
      if (p.k3s && !root.has('k3s')) root.set('k3s', { ...p.k3s });
      if (!root.has(p.name)) root.set(p.name, { ...p.settings });
    }
  }

  const text = doc.toString({ lineWidth: 0 });
  parseInventory(text, opts.file, opts.home === undefined ? {} : { home: opts.home });
  return { text, changes };
}

/** The mapping at top-level `key` of `doc` (whose top level is a mapping), made if missing or empty. */
function mapAt(doc: Document, key: string, file: string): YAMLMap {
  const Y = yamlLib();
  const root = doc.contents as YAMLMap;
  const pair = root.items.find((p) => keyText(p.key) === key);
  if (
    pair === undefined ||
    pair.value === null ||
    (Y.isScalar(pair.value) && (pair.value.value === null || pair.value.value === undefined))
  ) {
    const map = new Y.YAMLMap();
    if (pair) pair.value = map;
    else root.items.push(doc.createPair(key, map));
    return map;
  }
  if (!Y.isMap(pair.value)) {
    throw new InventoryValidationError(file, [
      {
        line: 1,
        path: [key],
        problem: 'must be a mapping to merge discovered entries into',
        hint: `Fix ${key}: in the file (see docs/inventory.md).`,
      },
    ]);
  }
  return pair.value;
}

function scalar(map: YAMLMap, key: string): unknown {
  const Y = yamlLib();
  const v = map.get(key, true);
  return Y.isScalar(v) ? v.value : v;
}

/** Changes the value in place, so a comment on the line stays. */
function setScalar(doc: Document, { map, key }: { map: YAMLMap; key: string }, value: string | number): void {
  const Y = yamlLib();
  const v = map.get(key, true);
  if (Y.isScalar(v)) v.value = value;
  else map.set(doc.createNode(key), value);
}

function normalRole(v: unknown): Role | undefined {
  return v === 'server' ? 'server' : v === 'agent' || v === 'worker' ? 'agent' : undefined;
}

export function accessValue(a: HostAccess): Record<string, unknown> {
  switch (a.kind) {
    case 'ssh':
      return a.configFile === undefined ? { ssh: a.destination } : { ssh: a.destination, sshConfig: a.configFile };
    case 'local':
      return { local: true };
    case 'provider':
      // The file writes a provider's host as `{ <provider>: true }` (`{ lab: true }`).
      return { [a.provider]: true };
  }
}
