import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePctList, parseKeyValues } from '../../src/proxmox/pct.js';
import { fixture } from '../helpers/fixtures.js';

test('GIVEN the real `pct list` output WHEN parsed THEN vmid, status, lock and name are read', () => {
  assert.deepEqual(parsePctList(fixture('pct-list.txt')), [
    { vmid: 100, status: 'running', lock: undefined, name: 'k3s-ctrl-1' },
    { vmid: 101, status: 'running', lock: undefined, name: 'k3s-worker-1' },
    { vmid: 102, status: 'running', lock: undefined, name: 'k3s-worker-2' },
    { vmid: 103, status: 'stopped', lock: 'backup', name: 'k3s-worker-3' },
    { vmid: 110, status: 'running', lock: undefined, name: 'pihole' },
  ]);
});

test('GIVEN no containers (pct list prints nothing) WHEN parsed THEN the list is empty', () => {
  assert.deepEqual(parsePctList(''), []);
});

test('GIVEN `pct config` WHEN parsed THEN keys and lxc lines are read, snapshot sections are not', () => {
  const kv = parseKeyValues(fixture('pct-config.txt') + '\n[pre-upgrade]\nmemory: 1\n');
  assert.equal(kv.get('features'), 'nesting=1');
  assert.equal(kv.get('memory'), '8192');
  assert.equal(kv.get('lxc.mount.auto'), '"proc:rw sys:rw"');
});
