import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryError } from '../../src/domain/errors.js';
import { cacheDir, configDir, findInventoryFile, loadInventory, stateDir } from '../../src/inventory/index.js';
import { MINIMAL } from './helpers.js';

function sandbox(): { cwd: string; home: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), 'pve-k3s-inv-'));
  const cwd = join(root, 'work');
  const home = join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  return { cwd, home, env: { HOME: home } };
}

function write(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, MINIMAL);
  return path;
}

function thrown(fn: () => unknown): InventoryError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InventoryError);
    return e;
  }
  assert.fail('expected an InventoryError');
}

test('GIVEN pve-k3s.yaml and pve-k3s.yml in the working directory WHEN searching THEN .yaml wins', () => {
  const { cwd, env } = sandbox();
  const yaml = write(join(cwd, 'pve-k3s.yaml'));
  write(join(cwd, 'pve-k3s.yml'));
  assert.equal(findInventoryFile({ cwd, env }), yaml);
});

test('GIVEN only pve-k3s.yml in the working directory WHEN searching THEN it is used before the config directory', () => {
  const { cwd, home, env } = sandbox();
  const yml = write(join(cwd, 'pve-k3s.yml'));
  write(join(home, '.config', 'pve-k3s', 'pve-k3s.yaml'));
  assert.equal(findInventoryFile({ cwd, env }), yml);
});

test('GIVEN no file in the working directory WHEN searching THEN ~/.config/pve-k3s/pve-k3s.yaml is used', () => {
  const { cwd, home, env } = sandbox();
  const file = write(join(home, '.config', 'pve-k3s', 'pve-k3s.yaml'));
  assert.equal(findInventoryFile({ cwd, env }), file);
});

test('GIVEN XDG_CONFIG_HOME WHEN searching THEN its pve-k3s directory replaces ~/.config', () => {
  const { cwd, home, env } = sandbox();
  write(join(home, '.config', 'pve-k3s', 'pve-k3s.yaml'));
  const xdg = join(home, 'xdg');
  const file = write(join(xdg, 'pve-k3s', 'pve-k3s.yaml'));
  assert.equal(findInventoryFile({ cwd, env: { ...env, XDG_CONFIG_HOME: xdg } }), file);
});

test('GIVEN an explicit -c path WHEN searching THEN it is used even when ./pve-k3s.yaml exists', () => {
  const { cwd, env } = sandbox();
  write(join(cwd, 'pve-k3s.yaml'));
  const other = write(join(cwd, 'conf', 'other.yaml'));
  assert.equal(findInventoryFile({ explicit: 'conf/other.yaml', cwd, env }), other);
});

test('GIVEN an explicit -c path that does not exist WHEN searching THEN the error names it', () => {
  const { cwd, env } = sandbox();
  write(join(cwd, 'pve-k3s.yaml'));
  const err = thrown(() => findInventoryFile({ explicit: 'nope.yaml', cwd, env }));
  assert.equal(err.message, 'nope.yaml: no such inventory file');
  assert.equal(err.file, 'nope.yaml');
  assert.equal(err.hint, 'Check the path given with -c/--config.');
  assert.equal(err.exitCode, 2);
});

test('GIVEN an explicit -c path that is a directory WHEN searching THEN the error says so', () => {
  const { cwd, env } = sandbox();
  assert.equal(thrown(() => findInventoryFile({ explicit: '.', cwd, env })).message, '.: is a directory, not an inventory file');
});

test('GIVEN no inventory anywhere WHEN searching THEN the error lists where it looked and what to do', () => {
  const { cwd, home, env } = sandbox();
  const err = thrown(() => findInventoryFile({ cwd, env }));
  assert.equal(
    err.message,
    `no inventory file found (looked for ${join(cwd, 'pve-k3s.yaml')}, ${join(cwd, 'pve-k3s.yml')}, ${join(home, '.config', 'pve-k3s', 'pve-k3s.yaml')})`,
  );
  assert.equal(
    err.hint,
    'Run `pve-k3s lab init` to try pve-k3s on a simulated cluster, or write pve-k3s.yaml (see docs/inventory.md), or pass -c FILE.',
  );
});

test('GIVEN XDG variables or none WHEN asking for the config and state directories THEN XDG rules apply', () => {
  assert.equal(configDir({ HOME: '/home/a' }), '/home/a/.config/pve-k3s');
  assert.equal(configDir({ HOME: '/home/a', XDG_CONFIG_HOME: '/x/conf' }), '/x/conf/pve-k3s');
  assert.equal(stateDir({ HOME: '/home/a' }), '/home/a/.local/state/pve-k3s');
  assert.equal(stateDir({ HOME: '/home/a', XDG_STATE_HOME: '/x/state' }), '/x/state/pve-k3s');
  // The XDG spec: relative values are invalid and ignored.
  assert.equal(stateDir({ HOME: '/home/a', XDG_STATE_HOME: 'rel' }), '/home/a/.local/state/pve-k3s');
  assert.equal(cacheDir({ HOME: '/home/a' }), '/home/a/.cache/pve-k3s');
  assert.equal(cacheDir({ HOME: '/home/a', XDG_CACHE_HOME: '/x/cache' }), '/x/cache/pve-k3s');
  assert.equal(cacheDir({ HOME: '/home/a', XDG_CACHE_HOME: 'rel' }), '/home/a/.cache/pve-k3s');
});

test('GIVEN a found file WHEN loaded THEN it is parsed with Inventory.file set to it', async () => {
  const { cwd, env } = sandbox();
  const file = write(join(cwd, 'pve-k3s.yaml'));
  const inv = await loadInventory(findInventoryFile({ cwd, env }));
  assert.equal(inv.file, file);
  assert.equal(inv.cluster, 'homelab');
});

test('GIVEN a path that does not exist WHEN loaded THEN an InventoryError names it', async () => {
  const { cwd } = sandbox();
  const missing = join(cwd, 'missing.yaml');
  await assert.rejects(loadInventory(missing), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(e.message, `${missing}: no such file`);
    return true;
  });
});

test('GIVEN a bad file on disk WHEN loaded THEN messages name the path as given', async () => {
  const { cwd } = sandbox();
  const file = join(cwd, 'bad.yaml');
  writeFileSync(file, 'cluster: Bad\n');
  await assert.rejects(loadInventory(file), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.match(e.message, new RegExp(`^${file}:1: cluster: must be `));
    return true;
  });
});
