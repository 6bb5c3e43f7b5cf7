/**
 * parseInventory: YAML text -> validated Inventory with defaults applied, or one
 * InventoryValidationError listing every problem with file, line and field.
 */
import { dirname, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { Inventory, HostSpec, NodeSpec, ContainerSettings } from './types.js';
import { DEFAULT_CONTAINER, DEFAULT_DRAIN, DEFAULT_K3S, DEFAULT_UPGRADE, FILE_LAB_PROVIDER, LAB_CHANNEL_URL } from './defaults.js';
import { parseWindow } from '../domain/window.js';
import { FIELDS, fieldPattern, formatField, knownKeys, type FieldInfo } from './fields.js';
import { InventoryValidationError, showValue, sortIssues, type InventoryIssue } from './issues.js';
import { checkRules } from './rules.js';
import { isRecord } from '../domain/text.js';
import { inventorySchema, type InventoryFile } from './schema.js';
import { closest } from './suggest.js';
import { resolveUserPath } from './paths.js';
import { findDuplicateKeys, keysInOrder, lineOf, parseYaml, type Path, type YamlSource } from './yaml-source.js';

export interface ParseOptions {
  /** Home directory for `~` in paths. @default os.homedir() */
  home?: string;
}

const MAX_ALIASES = 100;

/**
 * Parses and validates an inventory. `file` names the file in messages (as given) and,
 * resolved, is `Inventory.file` and the base of relative paths. Pure apart from reading
 * the working directory (to resolve a relative `file`) and the home directory.
 */
export function parseInventory(text: string, file: string, opts: ParseOptions = {}): Inventory {
  const { source, issues: syntax } = parseYaml(text);
  if (syntax.length > 0) throw new InventoryValidationError(file, sortIssues(syntax));
  const raw = toPlain(source, file);
  const issues: InventoryIssue[] = findDuplicateKeys(source);
  const result = inventorySchema().safeParse(raw, { reportInput: true });
  if (!result.success) {
    for (const zi of result.error.issues) issues.push(...fromZod(zi, raw, source));
  }
  for (const r of checkRules(raw)) {
    issues.push({ line: lineOf(source, r.path, r.at), path: r.path, problem: r.problem, hint: r.hint });
  }
  if (issues.length > 0 || !result.success) {
    throw new InventoryValidationError(file, sortIssues(issues));
  }
  return normalise(result.data, { source, file, home: opts.home ?? homedir() });
}

function toPlain(source: YamlSource, file: string): Record<string, unknown> {
  const contents = source.doc.contents;
  const fileIssue = (line: number, problem: string, hint: string): InventoryValidationError =>
    new InventoryValidationError(file, [{ line, path: undefined, problem, hint }]);
  const startHint = 'Write an inventory (see docs/inventory.md), or run `pve-k3s lab init`.';
  let raw: unknown;
  try {
    raw = source.doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    throw fileIssue(1, `YAML error: ${(e as Error).message}`, 'Use fewer YAML aliases (*name).');
  }
  if (raw === null || raw === undefined) throw fileIssue(1, 'the file is empty', startHint);
  if (!isRecord(raw)) {
    const line = contents?.range ? source.lines.linePos(contents.range[0]).line : 1;
    throw fileIssue(line, `the top level must be a mapping (cluster:, hosts:, nodes:, ...), got ${showValue(raw)}`, startHint);
  }
  return raw;
}

type ZodIssue = { code: string; path: PropertyKey[]; keys?: string[] };

function fromZod(zi: ZodIssue, raw: Record<string, unknown>, source: YamlSource): InventoryIssue[] {
  const path: Path = zi.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (zi.code === 'unrecognized_keys' && zi.keys) {
    const known = knownKeys(path);
    return zi.keys.map((key) => {
      const suggestion = closest(key, known);
      return {
        line: lineOf(source, [...path, key], 'key'),
        path: [...path, key],
        problem: `unknown key${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
        hint: `Valid keys ${path.length === 0 ? 'at the top level' : `under ${formatField(path)}`}: ${known.join(', ')}.`,
      };
    });
  }
  const info: FieldInfo = FIELDS[fieldPattern(path)] ?? { expected: 'valid', hint: 'See docs/inventory.md.' };
  const value = getIn(raw, path);
  const problem = value === undefined ? `missing; must be ${info.expected}` : `must be ${info.expected}, got ${showValue(value)}`;
  return [{ line: lineOf(source, path), path, problem, hint: info.hint }];
}

function getIn(value: unknown, path: Path): unknown {
  let v = value;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && Object.hasOwn(v, String(seg))) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

/** Names of a mapping in file order (numeric-looking names would otherwise move first). */
function ordered<T>(record: Record<string, T>, source: YamlSource, path: Path): [string, T][] {
  const names = keysInOrder(source, path).filter((k) => Object.hasOwn(record, k));
  const rest = Object.keys(record).filter((k) => !names.includes(k));
  return [...new Set([...names, ...rest])].map((k) => [k, record[k] as T]);
}

/** `source`: the parsed YAML of `file`, for file order; `home`: what `~` in a path means. */
function normalise(data: InventoryFile, { source, file, home }: { source: YamlSource; file: string; home: string }): Inventory {
  const baseDir = dirname(resolve(file));
  const hosts = ordered(data.hosts, source, ['hosts']).map(([name, h]): HostSpec => {
    if (h.ssh !== undefined) {
      const access: HostSpec['access'] = { kind: 'ssh', destination: h.ssh };
      if (h.sshConfig !== undefined) access.configFile = resolveUserPath(h.sshConfig, baseDir, home);
      if (h.sshPersist !== undefined) access.persist = h.sshPersist;
      return { name, access };
    }
    // The file's `lab: true` is the lab's shell provider (docs/inventory.md, "The lab").
    return { name, access: h.local ? { kind: 'local' } : { kind: 'provider', provider: FILE_LAB_PROVIDER } };
  });
  const nodes = ordered(data.nodes, source, ['nodes']).map(([name, n]): NodeSpec => {
    const spec: NodeSpec = { name, vmid: n.vmid, host: n.host, role: n.role === 'server' ? 'server' : 'agent' };
    if (n.container) spec.container = containerOverrides(n.container);
    if (n.upgrade === false) spec.upgrade = false;
    return spec;
  });
  const firstServer = nodes.find((n) => n.role === 'server')?.name;
  if (firstServer === undefined) throw new TypeError('unreachable: rules require a server');
  return {
    file: resolve(file),
    cluster: data.cluster,
    hosts,
    nodes,
    controller: data.controller ?? firstServer,
    k3s: {
      channel: data.k3s?.channel ?? DEFAULT_K3S.channel,
      version: data.k3s?.version ?? undefined,
      channelUrl:
        data.k3s?.channelUrl === LAB_CHANNEL_URL ? { provider: FILE_LAB_PROVIDER } : (data.k3s?.channelUrl ?? DEFAULT_K3S.channelUrl),
      installScriptUrl: data.k3s?.installScriptUrl ?? DEFAULT_K3S.installScriptUrl,
    },
    drain: {
      ignoreDaemonsets: data.drain?.ignoreDaemonsets ?? DEFAULT_DRAIN.ignoreDaemonsets,
      deleteEmptydirData: data.drain?.deleteEmptydirData ?? DEFAULT_DRAIN.deleteEmptydirData,
      disableEviction: data.drain?.disableEviction ?? DEFAULT_DRAIN.disableEviction,
      force: data.drain?.force ?? DEFAULT_DRAIN.force,
      timeoutSeconds: data.drain?.timeout ?? DEFAULT_DRAIN.timeoutSeconds,
      gracePeriodSeconds: data.drain?.gracePeriod ?? undefined,
      skipWaitForDeleteTimeoutSeconds: data.drain?.skipWaitForDeleteTimeout ?? undefined,
      onTimeout: data.drain?.onTimeout ?? DEFAULT_DRAIN.onTimeout,
    },
    upgrade: {
      order: data.upgrade?.order ?? DEFAULT_UPGRADE.order,
      allowSkew: data.upgrade?.allowSkew ?? DEFAULT_UPGRADE.allowSkew,
      readyTimeoutSeconds: data.upgrade?.readyTimeout ?? DEFAULT_UPGRADE.readyTimeoutSeconds,
      drainServers: data.upgrade?.drainServers ?? DEFAULT_UPGRADE.drainServers,
      snapshot: data.upgrade?.snapshot ?? DEFAULT_UPGRADE.snapshot,
      snapshotRetention: data.upgrade?.snapshotRetention ?? DEFAULT_UPGRADE.snapshotRetention,
      parallel: data.upgrade?.parallel ?? DEFAULT_UPGRADE.parallel,
      ...upgradePolicy(data.upgrade),
    },
    providers: data.lab ? { [FILE_LAB_PROVIDER]: { dir: resolveUserPath(data.lab.dir, baseDir, home) } } : {},
    ...(data.container ? { container: { ...DEFAULT_CONTAINER, ...containerOverrides(data.container) } } : {}),
    ...(data.install
      ? {
          install: {
            serverArgs: data.install.serverArgs ?? [],
            agentArgs: data.install.agentArgs ?? [],
            config: data.install.config ?? undefined,
          },
        }
      : {}),
  };
}

type ContainerFile = NonNullable<InventoryFile['container']>;
type UpgradeFile = InventoryFile['upgrade'];

/** The policy settings of `upgrade:` (canary, soak, window, notify, gates) that are set. */
function upgradePolicy(u: UpgradeFile): Partial<Inventory['upgrade']> {
  const out: Partial<Inventory['upgrade']> = {};
  if (!u) return out;
  if (u.canary != null) out.canary = u.canary;
  if (u.canarySoak != null) out.canarySoakSeconds = u.canarySoak;
  if (u.soak != null) out.soakSeconds = u.soak;
  if (u.window != null) {
    // The schema and rules checked every part, so this cannot throw.
    out.window = parseWindow({
      days: u.window.days ?? undefined,
      start: u.window.start ?? undefined,
      end: u.window.end ?? undefined,
      timeZone: u.window.timeZone ?? undefined,
    });
  }
  if (u.notify != null) out.notify = typeof u.notify === 'string' ? [u.notify] : u.notify;
  if (u.prometheusUrl != null) out.prometheusUrl = u.prometheusUrl;
  if (u.alertFilterRegexp != null) out.alertFilterRegexp = u.alertFilterRegexp;
  if (u.alertFiringOnly != null) out.alertFiringOnly = u.alertFiringOnly;
  if (u.alertFilterMatchOnly != null) out.alertFilterMatchOnly = u.alertFilterMatchOnly;
  if (u.blockingPodSelector != null)
    out.blockingPodSelector = typeof u.blockingPodSelector === 'string' ? [u.blockingPodSelector] : u.blockingPodSelector;
  if (u.gateTimeout != null) out.gateTimeoutSeconds = u.gateTimeout;
  return out;
}

/** The settings a `container:` mapping sets (absent keys stay absent, to be merged over defaults). */
function containerOverrides(c: ContainerFile): Partial<ContainerSettings> {
  const out: Partial<ContainerSettings> = {};
  if (c.template != null) out.template = c.template;
  if (c.storage != null) out.storage = c.storage;
  if (c.diskSize != null) out.diskSizeGb = typeof c.diskSize === 'number' ? c.diskSize : Number(c.diskSize.replace(/G$/, ''));
  if (c.cores != null) out.cores = c.cores;
  if (c.memory != null) out.memoryMb = c.memory;
  if (c.network != null) out.network = c.network;
  if (c.tags != null) out.tags = typeof c.tags === 'string' ? [c.tags] : c.tags;
  return out;
}
