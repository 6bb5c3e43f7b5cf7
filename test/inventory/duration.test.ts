import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/inventory/index.js';

test('GIVEN the accepted duration forms WHEN parsed THEN they give seconds', () => {
  const cases: [unknown, number][] = [
    [90, 90],
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1h', 3600],
    ['1m30s', 90],
    ['2h0m1s', 7201],
  ];
  for (const [input, seconds] of cases) assert.equal(parseDuration(input), seconds, String(input));
});

test('GIVEN invalid or non-positive durations WHEN parsed THEN they are rejected', () => {
  for (const input of [0, -1, 1.5, '0', '0s', '', '5 m', '1d', '5M', 'm', '1s1m', '1.5m', true, null, NaN, Infinity, '99999999h']) {
    assert.equal(parseDuration(input), undefined, String(input));
  }
});

test('GIVEN seconds WHEN formatted THEN the shortest unit form is written', () => {
  assert.equal(formatDuration(300), '5m');
  assert.equal(formatDuration(90), '1m30s');
  assert.equal(formatDuration(3600), '1h');
  assert.equal(formatDuration(3605), '1h5s');
});

test('GIVEN any positive duration WHEN formatted and parsed THEN the seconds come back', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 366 * 24 * 3600 }), (s) => parseDuration(formatDuration(s)) === s));
});
