import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration } from '../../src/domain/duration.js';

test('GIVEN milliseconds WHEN said to people THEN units, never "900000 ms"', () => {
  const cases: Array<[number, string]> = [
    [900_000, '15m'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_723_000, '1h2m3s'],
    [45_000, '45s'],
    [2_500, '2.5s'],
    [2_000, '2s'],
    [300, '0.3s'],
    [0, '0s'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});
