import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from '../../src/inventory/suggest.js';

test('GIVEN typos of known keys WHEN suggesting THEN the intended key is found', () => {
  const keys = ['channel', 'version', 'channelUrl', 'installScriptUrl'];
  assert.equal(closest('chanel', keys), 'channel');
  assert.equal(closest('verison', keys), 'version');
  assert.equal(closest('channelURL', keys), 'channelUrl');
  assert.equal(closest('instalScriptUrl', keys), 'installScriptUrl');
});

test('GIVEN a word far from every key WHEN suggesting THEN nothing is suggested', () => {
  assert.equal(closest('banana', ['force', 'timeout']), undefined);
  assert.equal(closest('x', ['k3s', 'lab']), undefined);
});

test('GIVEN two strings WHEN measuring THEN transpositions count as one edit', () => {
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});
