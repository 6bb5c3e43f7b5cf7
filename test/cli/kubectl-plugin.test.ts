/**
 * `kubectl pve-k3s ...`: the package's bin has kubectl-pve_k3s. kubectl finds a plugin by
 * joining the leading words of its command line with dashes, each word's own dashes turned into
 * underscores, the longest name first (kubectl-pve_k3s-status, then kubectl-pve_k3s), and runs
 * the first executable found on PATH with the words left. The test applies that rule to a PATH
 * that holds the bin as npm installs it (a link to dist/src/cli/bin.js).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/fixtures.js';

/** kubectl's plugin lookup (k8s.io/kubectl/pkg/cmd/plugin: HandlePluginCommand). */
function kubectlPlugin(args: string[], path: string): { file: string; rest: string[] } | undefined {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    words.push(a.replace(/-/g, '_'));
  }
  for (let n = words.length; n > 0; n--) {
    const name = `kubectl-${words.slice(0, n).join('-')}`;
    for (const dir of path.split(':')) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return { file, rest: args.slice(n) };
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

test('GIVEN the package bin on PATH WHEN kubectl looks up `pve-k3s version -o json` THEN it runs kubectl-pve_k3s with the rest', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
  assert.equal(pkg.bin['kubectl-pve_k3s'], pkg.bin['pve-k3s']);
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-plugin-'));
  try {
    const target = join(repoRoot(), pkg.bin['kubectl-pve_k3s']!);
    chmodSync(target, 0o755); // as npm does for a bin
    symlinkSync(target, join(dir, 'kubectl-pve_k3s'));
    const found = kubectlPlugin(['pve-k3s', 'version', '-o', 'json'], `${dir}:/usr/bin:/bin`);
    assert.ok(found);
    assert.deepEqual(found, { file: join(dir, 'kubectl-pve_k3s'), rest: ['version', '-o', 'json'] });
    const env = { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` };
    const r = spawnSync(found.file, found.rest, { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { version: string }).version, pkg.version);
    assert.equal(kubectlPlugin(['pve_k3s', 'status'], dir)?.rest[0], 'status');
    assert.equal(kubectlPlugin(['get', 'pods'], dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
