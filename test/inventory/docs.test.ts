/** The examples in docs/inventory.md must stay valid inventories. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../src/inventory/index.js';
import { repoRoot } from '../helpers/fixtures.js';

const doc = readFileSync(`${repoRoot()}/docs/inventory.md`, 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

test('GIVEN docs/inventory.md WHEN its YAML examples are parsed THEN each is a valid inventory', () => {
  assert.ok(examples.length >= 4);
  for (const text of examples) assert.doesNotThrow(() => parseInventory(text, 'docs/inventory.md', { home: '/home/u' }), text);
});
