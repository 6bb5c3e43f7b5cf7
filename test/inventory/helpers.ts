/** Shared fixtures for the inventory tests. */
import assert from 'node:assert/strict';
import { parseInventory } from '../../src/inventory/index.js';
import { InventoryValidationError, formatIssue } from '../../src/inventory/issues.js';

export const FILE = '/srv/pve-k3s/pve-k3s.yaml';
export const HOME = '/home/ops';

/** A valid inventory with every section; tests edit it line by line. */
export const FULL = `# pve-k3s inventory
cluster: homelab
hosts:
  pve1: { ssh: root@pve1 }
  pve2: { ssh: pve2, sshConfig: ~/.ssh/config-lab }
  pve3: { local: true }
nodes:
  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }
  k3s-worker-1: { vmid: 101, host: pve2, role: worker }
  k3s-worker-2: { vmid: 102, host: pve3, role: agent }
controller: k3s-ctrl-1
k3s:
  channel: v1.31
  version: v1.33.5+k3s1
  channelUrl: https://mirror.example/v1-release/channels
  installScriptUrl: https://mirror.example/install.sh
drain:
  ignoreDaemonsets: false
  deleteEmptydirData: false
  disableEviction: false
  force: true
  timeout: 1m30s
  gracePeriod: 45
upgrade:
  order: workers-first
  allowSkew: true
  readyTimeout: 1h
  drainServers: never
`;

/** The minimal valid inventory. */
export const MINIMAL = `cluster: homelab
hosts:
  pve1: { ssh: root@pve1 }
nodes:
  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }
`;

export function parse(text: string) {
  return parseInventory(text, FILE, { home: HOME });
}

/** Replaces exactly one occurrence of `from` (so an edit cannot silently miss). */
export function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  assert.ok(at >= 0 && text.indexOf(from, at + 1) < 0, `edit: ${JSON.stringify(from)} must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export function parseError(text: string): InventoryValidationError {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof InventoryValidationError, `expected InventoryValidationError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the inventory to be rejected');
}

/** Every problem of a rejected inventory, formatted `<file>:<line>: <field>: <problem>`. */
export function problems(text: string): string[] {
  return parseError(text).issues.map((i) => formatIssue(FILE, i));
}
