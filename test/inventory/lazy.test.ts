/** `pve-k3s --help` imports the inventory module: it must not load yaml or zod. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { repoRoot } from '../helpers/fixtures.js';

const root = repoRoot() + '/';

test('GIVEN the inventory sources WHEN read THEN none imports yaml or zod as a value', () => {
  const dir = `${root}src/inventory/`;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(dir + file, 'utf8');
    assert.doesNotMatch(text, /^import (?!type )[^;]*from '(yaml|zod)'/m, file);
    assert.doesNotMatch(text, /^export [^;]*from '(yaml|zod)'/m, file);
  }
});

test('GIVEN a fresh process WHEN the inventory module is imported THEN yaml and zod are not loaded until used', () => {
  const script = `
    import { createRequire } from 'node:module';
    const Module = createRequire(import.meta.url)('node:module');
    const loaded = () => Object.keys(Module._cache).filter((k) => /node_modules\\/(yaml|zod)\\//.test(k)).length > 0;
    const inv = await import('./src/inventory/index.ts');
    const before = loaded();
    inv.parseInventory('cluster: a\\nhosts: { p: { local: true } }\\nnodes: { n: { vmid: 100, host: p, role: server } }\\n', '/x.yaml');
    console.log(JSON.stringify({ before, after: loaded() }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { before: false, after: true });
});
