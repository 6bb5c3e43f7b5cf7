/**
 * renderInventory: the YAML form of an Inventory, as a person would write it: one flow map per
 * host and node, settings only where they differ from the defaults. parseInventory(render(x),
 * x.file) deep-equals x (property-tested). Paths are written absolute.
 */
import type { HostSpec, Inventory } from './types.js';
import { DEFAULT_DRAIN, DEFAULT_K3S, DEFAULT_UPGRADE } from './defaults.js';
import { yamlLib } from './deps.js';
import { formatDuration } from './duration.js';

/** The YAML text of an inventory, as a person would write it (parseInventory reads it back unchanged). */
export function renderInventory(inv: Inventory): string {
  const Y = yamlLib();
  const firstServer = inv.nodes.find((n) => n.role === 'server')?.name;
  const doc = new Y.Document();
  const flowMap = (entries: [string, Record<string, unknown>][]) => flowMapOf(doc, entries);
  const body: Record<string, unknown> = {
    cluster: inv.cluster,
    hosts: flowMap(inv.hosts.map((h) => [h.name, hostValue(h)])),
    nodes: flowMap(
      inv.nodes.map((n) => [n.name, { vmid: n.vmid, host: n.host, role: n.role, ...(n.upgrade === false ? { upgrade: false } : {}) }]),
    ),
  };
  if (inv.controller !== firstServer) body['controller'] = inv.controller;
  const { channelUrl } = inv.k3s;
  const k3s = changed({ ...inv.k3s, channelUrl: typeof channelUrl === 'string' ? channelUrl : channelUrl.provider }, DEFAULT_K3S);
  if (k3s) body['k3s'] = k3s;
  const { timeoutSeconds, gracePeriodSeconds, skipWaitForDeleteTimeoutSeconds, ...drainFlags } = inv.drain;
  const drain = changed(
    {
      ...drainFlags,
      timeout: formatDuration(timeoutSeconds),
      gracePeriod: gracePeriodSeconds === undefined ? undefined : formatDuration(gracePeriodSeconds),
      skipWaitForDeleteTimeout: skipWaitForDeleteTimeoutSeconds === undefined ? undefined : formatDuration(skipWaitForDeleteTimeoutSeconds),
    },
    {
      ...DEFAULT_DRAIN,
      timeout: formatDuration(DEFAULT_DRAIN.timeoutSeconds),
      gracePeriod: undefined,
      skipWaitForDeleteTimeout: undefined,
    },
  );
  if (drain) body['drain'] = drain;
  const { readyTimeoutSeconds, canarySoakSeconds, soakSeconds, window, notify, gateTimeoutSeconds, ...upgradeRest } = inv.upgrade;
  const upgrade: Record<string, unknown> = {
    ...changed(
      { ...upgradeRest, readyTimeout: formatDuration(readyTimeoutSeconds) },
      { ...DEFAULT_UPGRADE, readyTimeout: formatDuration(DEFAULT_UPGRADE.readyTimeoutSeconds) },
    ),
  };
  if (canarySoakSeconds !== undefined) upgrade['canarySoak'] = formatDuration(canarySoakSeconds);
  if (soakSeconds !== undefined) upgrade['soak'] = formatDuration(soakSeconds);
  if (gateTimeoutSeconds !== undefined) upgrade['gateTimeout'] = formatDuration(gateTimeoutSeconds);
  if (window !== undefined) upgrade['window'] = { ...window };
  if (notify !== undefined && notify.length > 0) upgrade['notify'] = [...notify];
  if (Object.keys(upgrade).length > 0) body['upgrade'] = upgrade;
  // A provider's settings are its top-level section of the file (`lab: { dir }`).
  for (const [name, settings] of Object.entries(inv.providers)) body[name] = { ...settings };

  doc.contents = doc.createNode(body);
  doc.commentBefore = ' pve-k3s inventory (format: docs/inventory.md)';
  return doc.toString({ lineWidth: 0 });
}

function hostValue(h: HostSpec): Record<string, unknown> {
  switch (h.access.kind) {
    case 'ssh':
      return {
        ssh: h.access.destination,
        ...(h.access.configFile === undefined ? {} : { sshConfig: h.access.configFile }),
        ...(h.access.persist === undefined ? {} : { sshPersist: h.access.persist === false ? false : formatDuration(h.access.persist) }),
      };
    case 'local':
      return { local: true };
    case 'provider':
      return { [h.access.provider]: true };
  }
}

/** The entries of `value` that differ from `defaults`, or undefined when none do. */
function changed<T extends object>(value: T, defaults: T): Partial<T> | undefined {
  const out: Partial<T> = {};
  let any = false;
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined && value[key] !== defaults[key]) {
      out[key] = value[key];
      any = true;
    }
  }
  return any ? out : undefined;
}

/**
 * A block map of flow maps (`name: { vmid: 100, host: pve1 }`), built pair by pair: a plain
 * object would move numeric-looking names ("10") first.
 */
export function flowMapOf(doc: import('yaml').Document, entries: [string, Record<string, unknown>][]): import('yaml').YAMLMap {
  const Y = yamlLib();
  const map = new Y.YAMLMap();
  for (const [key, value] of entries) {
    const node = doc.createNode(value);
    node.flow = true;
    map.items.push(doc.createPair(key, node));
  }
  return map;
}
