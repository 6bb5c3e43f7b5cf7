/** Problems of the file as YAML: syntax, duplicates, empty, wrong top level. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILE, FULL, MINIMAL, edit, parseError, problems } from './helpers.js';

const F = FILE;

test('GIVEN a YAML syntax error WHEN parsed THEN the message gives line and column', () => {
  const err = parseError(edit(MINIMAL, '{ ssh: root@pve1 }', '{ ssh: root@pve1 }}'));
  assert.equal(err.message, `${F}:3:27: YAML syntax error: Unexpected flow-map-end token in YAML stream: "}"`);
  assert.equal(err.line, 3);
  assert.equal(err.field, undefined);
  assert.equal(err.hint, 'Fix the YAML syntax at this position.');
});

test('GIVEN a bad indentation on line 4 WHEN parsed THEN the error is on line 4 with its column', () => {
  const text = 'cluster: homelab\nhosts:\n  pve1: { ssh: root@pve1 }\n   bad: [\n';
  const [first] = problems(text);
  assert.match(first ?? '', new RegExp(`^${F}:4:\\d+: YAML syntax error: `));
});

test('GIVEN a tab used for indentation WHEN parsed THEN it is a syntax error with line and column', () => {
  const [first] = problems('cluster: homelab\nhosts:\n\tpve1: { ssh: root@pve1 }\n');
  assert.match(first ?? '', new RegExp(`^${F}:3:1: YAML syntax error: `));
});

test('GIVEN a duplicate node WHEN parsed THEN the second occurrence is reported with the first line', () => {
  const text = edit(FULL, '  k3s-worker-2: { vmid: 102', '  k3s-worker-1: { vmid: 102');
  assert.deepEqual(problems(text), [`${F}:10: nodes.k3s-worker-1: duplicate key (first at line 9)`]);
});

test('GIVEN a duplicate key inside a flow map WHEN parsed THEN it is reported', () => {
  const text = edit(FULL, '{ vmid: 100, host: pve1, role: server }', '{ vmid: 100, host: pve1, role: server, vmid: 104 }');
  assert.deepEqual(problems(text), [`${F}:8: nodes.k3s-ctrl-1.vmid: duplicate key (first at line 8)`]);
});

test('GIVEN a duplicate top-level section WHEN parsed THEN it is reported', () => {
  assert.deepEqual(problems(`${MINIMAL}cluster: other\n`), [`${F}:6: cluster: duplicate key (first at line 1)`]);
});

test('GIVEN an empty file or only comments WHEN parsed THEN the file is empty', () => {
  for (const text of ['', '\n\n', '# nothing yet\n', '---\n']) {
    const err = parseError(text);
    assert.equal(err.message, `${F}:1: the file is empty`);
    assert.equal(err.hint, 'Write an inventory (see docs/inventory.md), or run `pve-k3s lab init`.');
  }
});

test('GIVEN a top level that is a list or a scalar WHEN parsed THEN it must be a mapping', () => {
  assert.deepEqual(problems('# x\n- cluster: homelab\n'), [
    `${F}:2: the top level must be a mapping (cluster:, hosts:, nodes:, ...), got a list`,
  ]);
  assert.deepEqual(problems('cluster: a: b\n'), [`${F}:1:10: YAML syntax error: Nested mappings are not allowed in compact mappings`]);
  assert.deepEqual(problems('homelab\n'), [`${F}:1: the top level must be a mapping (cluster:, hosts:, nodes:, ...), got "homelab"`]);
});

test('GIVEN two YAML documents WHEN parsed THEN it is an error on the second one', () => {
  assert.deepEqual(problems(`${MINIMAL}---\ncluster: other\n`), [
    `${F}:6:1: YAML syntax error: the file holds several documents (---); an inventory is one document`,
  ]);
});

test('GIVEN anchors and aliases WHEN parsed THEN the values are shared and lines still map', () => {
  const text = edit(MINIMAL, '{ ssh: root@pve1 }', '&h { ssh: root@pve1 }') + '  k3s-w: { vmid: 5, host: pve1, role: agent }\n';
  assert.deepEqual(problems(text), [`${F}:6: nodes.k3s-w.vmid: must be an integer from 100 to 999999999, got 5`]);
});
