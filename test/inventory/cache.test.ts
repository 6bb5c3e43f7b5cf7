/** The validated-inventory cache (src/inventory/cache.ts): a hit is the same inventory, and anything that changes the parse misses. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadInventory, parseInventory, InventoryValidationError } from '../../src/inventory/index.js';
import { MAX_ENTRIES, cacheKey, readCachedInventory } from '../../src/inventory/cache.js';
import { repoRoot } from '../helpers/fixtures.js';
import { FULL, HOME } from './helpers.js';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function setup(text = FULL): { dir: string; file: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pk-invcache-'));
  made.push(dir);
  const file = join(dir, 'pve-k3s.yaml');
  writeFileSync(file, text);
  return { dir, file, cache: join(dir, 'cache', 'inventory') };
}

const entries = (cache: string): string[] => readdirSync(cache).filter((n) => n.endsWith('.v8'));

test('GIVEN an inventory loaded once WHEN loaded again THEN the cached inventory is the one a fresh parse gives, undefined fields included', async () => {
  const { file, cache } = setup();
  const first = await loadInventory(file, { cacheDir: cache, home: HOME });
  assert.equal(entries(cache).length, 1);
  const cached = await readCachedInventory(cache, { file, text: FULL, home: HOME });
  assert.ok(cached, 'a hit');
  const fresh = parseInventory(FULL, file, { home: HOME });
  assert.deepStrictEqual(cached, fresh);
  assert.deepStrictEqual(await loadInventory(file, { cacheDir: cache, home: HOME }), first);
  assert.deepEqual(Object.keys(cached.k3s).sort(), Object.keys(fresh.k3s).sort(), 'keys whose value is undefined are kept');
});

test('GIVEN a cached inventory WHEN its text, its path or the home directory change THEN the cache misses', async () => {
  const { file, cache } = setup();
  await loadInventory(file, { cacheDir: cache, home: HOME });
  assert.ok(await readCachedInventory(cache, { file, text: FULL, home: HOME }));
  assert.equal(await readCachedInventory(cache, { file, text: `${FULL}# edited\n`, home: HOME }), undefined);
  assert.equal(await readCachedInventory(cache, { file: join(dirname(file), 'other.yaml'), text: FULL, home: HOME }), undefined);
  assert.equal(await readCachedInventory(cache, { file, text: FULL, home: '/home/someone' }), undefined);
});

test('GIVEN a valid inventory cached WHEN the file is edited into an invalid one THEN the error comes from a fresh parse, with its line', async () => {
  const { file, cache } = setup();
  await loadInventory(file, { cacheDir: cache, home: HOME });
  writeFileSync(file, FULL.replace('vmid: 101', 'vmid: many'));
  await assert.rejects(loadInventory(file, { cacheDir: cache, home: HOME }), (e: unknown) => {
    assert.ok(e instanceof InventoryValidationError);
    assert.match(e.message, /vmid/);
    return true;
  });
  assert.equal(entries(cache).length, 1, 'an invalid inventory is never stored');
});

test('GIVEN a corrupt or foreign entry under the right name WHEN loaded THEN it is a miss, the file is parsed and the entry replaced', async () => {
  const { file, cache } = setup();
  await loadInventory(file, { cacheDir: cache, home: HOME });
  const name = join(cache, `${cacheKey({ file, text: FULL, home: HOME })}.v8`);
  for (const bad of [Buffer.from('not v8 at all'), Buffer.alloc(0)]) {
    writeFileSync(name, bad);
    assert.equal(await readCachedInventory(cache, { file, text: FULL, home: HOME }), undefined);
    assert.deepStrictEqual(await loadInventory(file, { cacheDir: cache, home: HOME }), parseInventory(FULL, file, { home: HOME }));
    assert.ok(await readCachedInventory(cache, { file, text: FULL, home: HOME }), 'replaced by the fresh parse');
  }
});

test('GIVEN a cache directory open to others WHEN loading THEN it is neither read nor written', async () => {
  const { file, cache } = setup();
  await loadInventory(file, { cacheDir: cache, home: HOME });
  chmodSync(cache, 0o777);
  assert.equal(await readCachedInventory(cache, { file, text: FULL, home: HOME }), undefined);
  writeFileSync(file, `${FULL}# another\n`);
  await loadInventory(file, { cacheDir: cache, home: HOME });
  assert.equal(entries(cache).length, 1, 'nothing written');
});

test('GIVEN the cache WHEN written THEN the directory is 0700 and each entry 0600', async () => {
  const { file, cache } = setup();
  await loadInventory(file, { cacheDir: cache, home: HOME });
  assert.equal(statSync(cache).mode & 0o777, 0o700);
  for (const n of entries(cache)) assert.equal(statSync(join(cache, n)).mode & 0o777, 0o600);
});

test(`GIVEN more than ${MAX_ENTRIES} inventories WHEN stored THEN the oldest entries are removed`, async () => {
  const { file, cache } = setup();
  for (let i = 0; i < MAX_ENTRIES + 3; i++) {
    writeFileSync(file, `${FULL}# version ${i}\n`);
    await loadInventory(file, { cacheDir: cache, home: HOME });
    // Distinct ages without waiting: entry i is i seconds younger than entry 0.
    const name = join(cache, `${cacheKey({ file, text: `${FULL}# version ${i}\n`, home: HOME })}.v8`);
    utimesSync(name, 1_000_000 + i, 1_000_000 + i);
  }
  assert.equal(entries(cache).length, MAX_ENTRIES);
  assert.equal(await readCachedInventory(cache, { file, text: `${FULL}# version 0\n`, home: HOME }), undefined, 'the oldest went');
  assert.ok(await readCachedInventory(cache, { file, text: `${FULL}# version ${MAX_ENTRIES + 2}\n`, home: HOME }));
});

test('GIVEN a fresh process and a cached inventory WHEN it loads the inventory THEN neither yaml nor zod is loaded', () => {
  const { file, cache } = setup();
  const script = (hit: boolean) => `
    import { createRequire } from 'node:module';
    const Module = createRequire(import.meta.url)('node:module');
    const { loadInventory } = await import('./dist/src/inventory/index.js');
    const inv = await loadInventory(${JSON.stringify(file)}, { cacheDir: ${JSON.stringify(cache)}, home: ${JSON.stringify(HOME)} });
    const loaded = Object.keys(Module._cache).filter((k) => /node_modules\\/(yaml|zod)\\//.test(k)).length > 0;
    console.log(JSON.stringify({ hit: ${String(hit)}, cluster: inv.cluster, loaded }));
  `;
  const run = (hit: boolean) =>
    JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script(hit)], { cwd: repoRoot(), encoding: 'utf8' }),
    ) as unknown;
  assert.deepEqual(run(false), { hit: false, cluster: 'homelab', loaded: true });
  assert.deepEqual(run(true), { hit: true, cluster: 'homelab', loaded: false });
});

test('GIVEN the parser WHEN its imports are read THEN it depends only on src/inventory and src/domain (what the cache key fingerprints)', () => {
  const src = join(repoRoot(), 'src');
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const m of readFileSync(path, 'utf8').matchAll(/^(?:import|export)(?! type)[^;]*? from '(\.[^']+)'/gm)) {
      visit(join(dirname(path), m[1]!.replace(/\.js$/, '.ts')));
    }
  };
  visit(join(src, 'inventory', 'parse.ts'));
  const outside = [...seen].map((p) => p.slice(src.length + 1)).filter((p) => !/^(inventory|domain)\/[^/]+\.ts$/.test(p));
  assert.deepEqual(outside, []);
});
