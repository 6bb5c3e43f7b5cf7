/**
 * The package as a consumer gets it: `npm pack`, the tarball unpacked into a temporary
 * project's node_modules (its declared dependencies linked from this repository's, so nothing
 * is downloaded), then imported from ESM, type-checked from TypeScript against the shipped
 * .d.ts files, and the example of docs/library.md run as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';

const root = repoRoot();

/** The first ```js block of docs/library.md: the example a user copies. */
function docExample(): string {
  const doc = readFileSync(join(root, 'docs', 'library.md'), 'utf8');
  const m = /```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(m?.[1], 'docs/library.md has a ```js example');
  return m[1];
}

/** Packs the repository and installs the tarball into a fresh project; returns the project dir. */
function installPacked(work: string): string {
  // --ignore-scripts: `prepack` would rebuild dist/ under the tests that are running from it.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(work, packed[0]!.filename);
  const app = join(work, 'app');
  const pkgDir = join(app, 'node_modules', 'pve-k3s');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  // Only the declared dependencies (and the Node types a TypeScript consumer has): an undeclared
  // import fails to resolve here, as it would for a user.
  for (const dep of [...Object.keys(manifest.dependencies), '@types/node']) {
    const link = join(app, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), link, 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return app;
}

function node(app: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CONSUMER = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const lib = await import('pve-k3s');
const loaded = readFileSync(process.env.LOADED_LOG, 'utf8').split('\\n').filter(Boolean);
const cjs = Object.keys(createRequire(import.meta.url)('node:module')._cache);
const lab = await import('pve-k3s/lab');
let deep;
try { await import('pve-k3s/dist/src/upgrade/run/steps.js'); deep = 'imported'; } catch (err) { deep = err.code; }
console.log(JSON.stringify({
  exports: Object.keys(lib).sort(),
  labExports: Object.keys(lab).sort(),
  thirdParty: [...loaded, ...cjs].filter((u) => /node_modules\\/(?!pve-k3s\\/)/.test(u)),
  labOrCli: loaded.filter((u) => /pve-k3s\\/dist\\/src\\/(lab|cli)\\//.test(u)),
  deep,
  version: lib.version,
}));
`;

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOADED_LOG, r.url + '\\n');
  return r;
}
`;

/** Types a TypeScript consumer names, checked against the shipped declarations. */
const TYPES = `
import { PlanError, ShellError, planUpgrade, type ClusterFacts, type RunEvent, type Shell, type UpgradePlan, type UpgradeResultDocument } from 'pve-k3s';
import { initLab, type Lab } from 'pve-k3s/lab';

export function kinds(e: RunEvent): string {
  switch (e.kind) {
    case 'step-done':
      return e.step.id;
    case 'step-failed':
      return e.error.hint ?? e.error.message;
    default:
      return e.kind;
  }
}
export const shell: Shell = { host: 'h', run: async () => ({ code: 0, stdout: '', stderr: '' }), close: async () => {} };
export function plan(f: ClusterFacts): UpgradePlan {
  return planUpgrade(f, { version: { major: 1, minor: 33, patch: 5, rc: undefined, k3s: 1, raw: 'v1.33.5+k3s1' }, source: 'pinned' });
}
export function reason(e: unknown): string | undefined {
  return e instanceof PlanError ? e.reason : e instanceof ShellError ? e.host : undefined;
}
export function ok(d: UpgradeResultDocument): boolean {
  return d.ok;
}
export const lab: (dir: string) => Promise<Lab> = (dir) => initLab({ dir });
`;

test('GIVEN the packed package installed in a fresh project WHEN imported, type-checked and the docs/library.md example run THEN all work', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'pve-k3s-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const app = installPacked(work);

  await t.test('ESM: the curated entry and pve-k3s/lab import; nothing else is reachable; the index loads no dependency', () => {
    writeFileSync(join(app, 'consumer.mjs'), CONSUMER);
    writeFileSync(join(app, 'hooks.mjs'), HOOKS);
    writeFileSync(join(app, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
    const r = node(app, ['--import', './register.mjs', 'consumer.mjs'], { LOADED_LOG: join(work, 'loaded.log') });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as {
      exports: string[];
      labExports: string[];
      thirdParty: string[];
      labOrCli: string[];
      deep: string;
      version: string;
    };
    for (const name of [
      'gatherFacts',
      'planUpgrade',
      'runPlan',
      'executeUpgrade',
      'loadInventory',
      'connectCluster',
      'SshShell',
      'LocalShell',
    ]) {
      assert.ok(got.exports.includes(name), name);
    }
    for (const name of ['PveK3sError', 'PlanError', 'ShellError', 'RunError', 'InventoryError', 'PLAN_API_VERSION']) {
      assert.ok(got.exports.includes(name), name);
    }
    for (const name of ['initLab', 'openLab', 'renderLabInventory']) assert.ok(got.labExports.includes(name), name);
    assert.deepEqual(got.thirdParty, [], 'importing pve-k3s loads no third-party package');
    assert.deepEqual(got.labOrCli, [], 'importing pve-k3s loads neither the lab nor the CLI');
    assert.equal(got.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(got.version, pkg.version);
  });

  await t.test('TypeScript: the example and typical type uses check against the shipped .d.ts (strict, no skipLibCheck)', () => {
    writeFileSync(join(app, 'example.ts'), docExample());
    writeFileSync(join(app, 'types.ts'), TYPES);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        files: ['example.ts', 'types.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.'], {
      cwd: app,
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });

  await t.test('the docs/library.md example plans and runs the upgrade of a lab', () => {
    writeFileSync(join(app, 'example.mjs'), docExample());
    const r = node(app, ['example.mjs'], { TMPDIR: work });
    assert.equal(r.code, 0, r.stderr);
    const steps = /plan: (\d+) steps to (\S+)/.exec(r.stdout);
    assert.ok(steps, r.stdout);
    const done = r.stdout.split('\n').filter((l) => l.startsWith('done '));
    assert.equal(done.length, Number(steps[1]), r.stdout);
    const versions = [...r.stdout.matchAll(/^(\S+) (v\S+)$/gm)].map((m) => m[2]);
    assert.ok(versions.length >= 4, r.stdout);
    assert.deepEqual(new Set(versions), new Set([steps[2]]), 'every node runs the target after the run');
  });

  await t.test('the CLI ships and starts', () => {
    const r = node(app, [join('node_modules', 'pve-k3s', 'dist', 'src', 'cli', 'bin.js'), '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /upgrade/);
  });
});
