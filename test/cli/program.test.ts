/** The command tree: one spec file per command, each with its help, Examples and the global options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { buildProgram } from '../../src/cli/program-tree.js';
import { globalsOf, walk, type CommandUnknownOpts, type Entry, type Spec } from '../../src/cli/program.js';
import { COMMANDS } from '../../src/cli/specs/index.js';
import { ALONE, aloneCommand } from '../../src/cli/specs/alone.js';
import { repoRoot } from '../helpers/fixtures.js';
import { runCliInProcess } from '../helpers/lab-cli.js';

const root = repoRoot();
const bin = join(root, 'dist', 'src', 'cli', 'bin.js');
const cli = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** A command's words after `pve-k3s`. */
function pathOf(c: CommandUnknownOpts): string[] {
  const path: string[] = [];
  for (let x: CommandUnknownOpts | null = c; x?.parent; x = x.parent) path.unshift(x.name());
  return path;
}

function specsOf(entries: readonly Entry[]): Spec[] {
  return entries.flatMap((e) => (typeof e === 'function' ? [e] : [e.spec, ...specsOf(e.children)]));
}

test('GIVEN the spec files WHEN listed THEN each one that declares a command is in the command table', async () => {
  const dir = join(root, 'src', 'cli', 'specs');
  const inTable = new Set(specsOf(COMMANDS));
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && /^export default /m.test(readFileSync(join(dir, f), 'utf8')));
  assert.ok(files.length >= 20, `${files.length} spec files`);
  for (const f of files) {
    const mod = (await import(`../../src/cli/specs/${f.replace(/\.ts$/, '.js')}`)) as { default: Spec };
    assert.ok(inTable.has(mod.default), `src/cli/specs/${f} is not in the table of src/cli/specs/index.ts`);
  }
});

test('GIVEN every command WHEN its help is rendered THEN it has a description, Examples and the global options', () => {
  const program = buildProgram(() => undefined);
  const leaves = walk(program).filter((c) => c.commands.length === 0);
  assert.ok(leaves.length >= 20);
  for (const c of leaves) {
    const help = c.helpInformation();
    const name = `pve-k3s ${pathOf(c).join(' ')}`;
    assert.ok(c.description().length > 20, `${name}: description`);
    assert.match(c.summary(), /\w/, `${name}: summary`);
    assert.match(
      help,
      /Global Options:\n {2}-c, --config <file>[\s\S]*-o, --output <format>[\s\S]*-q, --quiet[\s\S]*--no-color[\s\S]*--verbose/,
      name,
    );
  }
});

test('GIVEN every command WHEN --help is asked THEN the help shows Examples and exits 0', async () => {
  // Through main() in this process (the exit status bin.ts would set); `plan --help` as a process
  // below and in the --k3s-version test.
  const program = buildProgram(() => undefined);
  for (const c of walk(program).filter((x) => x.commands.length === 0 && !x.name().startsWith('__'))) {
    const path = pathOf(c);
    const r = await runCliInProcess([...path, '--help'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.code, 0, path.join(' '));
    assert.match(r.stdout, /\nExamples:\n {2}# .+\n {2}pve-k3s /, path.join(' '));
  }
  const plan = cli(['plan', '--help']);
  assert.equal(plan.status, 0);
  assert.match(plan.stdout, /\nExamples:\n {2}# .+\n {2}pve-k3s /);
});

test('GIVEN --version or the version command WHEN run THEN both print the tool and Node versions and exit 0', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const line = `pve-k3s ${pkg.version} (node ${process.version}, ${process.platform}/${process.arch})\n`;
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = cli(args);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, line, ''], args.join(' '));
  }
  for (const args of [
    ['version', '-o', 'json'],
    ['-o', 'json', 'version'],
    ['-o', 'json', '--version'],
    ['--version', '-o', 'json'],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.deepEqual(JSON.parse(r.stdout), {
      apiVersion: 'pve-k3s.io/v1',
      kind: 'Version',
      version: pkg.version,
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
    });
  }
  const y = cli(['version', '-o', 'yaml']);
  assert.match(y.stdout, new RegExp(`^apiVersion: pve-k3s.io/v1\nkind: Version\nversion: ${pkg.version.replace(/\./g, '\\.')}\n`));
});

test('GIVEN an unknown command or no command WHEN run THEN a usage error, exit 2', () => {
  const r = cli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: unknown command 'frobnicate'/);
  const none = cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^Usage: pve-k3s \[options\] \[command\]/);
  const help = cli(['help', 'plan']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: pve-k3s plan \[options\]/);
});

test('GIVEN plan and upgrade WHEN their help is read THEN the target flag is --k3s-version and the old --version is hidden', () => {
  for (const c of ['plan', 'upgrade', 'status', 'install', 'join']) {
    const r = cli([c, '--help']);
    assert.match(r.stdout, /--k3s-version <version>/, c);
    assert.doesNotMatch(r.stdout, /^ {2}--version/m, c);
  }
});

test('GIVEN global options WHEN given before or after the command THEN the command gets them', () => {
  const seen: unknown[] = [];
  const argvs = [
    ['-o', 'json', '-c', 'a.yaml', '--verbose', 'lab', 'status'],
    ['lab', 'status', '-o', 'json', '-c', 'a.yaml', '--verbose'],
    ['lab', '-o', 'json', 'status', '-c', 'a.yaml', '--verbose'],
  ];
  for (const argv of argvs) {
    const program = buildProgram((cmd) => {
      seen.push(cmd.name());
    });
    program.parse(argv, { from: 'user' });
  }
  assert.deepEqual(seen, ['status', 'status', 'status']);
  for (const argv of argvs) {
    let g: unknown;
    buildProgram((cmd) => (g = globalsOf(cmd, {}))).parse(argv, { from: 'user' });
    assert.deepEqual(g, { config: 'a.yaml', output: 'json', verbose: true, quiet: false, color: true, persist: true }, argv.join(' '));
  }
  let g: unknown;
  buildProgram((cmd) => (g = globalsOf(cmd, { NO_COLOR: '1' }))).parse(['status', '-q'], { from: 'user' });
  assert.deepEqual(g, { config: undefined, output: 'table', verbose: false, quiet: true, color: false, persist: true });
  buildProgram((cmd) => (g = globalsOf(cmd, {}))).parse(['-o', 'yaml', 'status', '--no-color'], { from: 'user' });
  assert.deepEqual(g, { config: undefined, output: 'yaml', verbose: false, quiet: false, color: false, persist: true });
  for (const argv of [
    ['--no-persist', 'status'],
    ['status', '--no-persist'],
  ]) {
    buildProgram((cmd) => (g = globalsOf(cmd, {}))).parse(argv, { from: 'user' });
    assert.deepEqual(g, { config: undefined, output: 'table', verbose: false, quiet: false, color: true, persist: false }, argv.join(' '));
  }
});

/** The files a module loads before it runs: its static value imports, transitively (not `import type`, not `import()`). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(?:import|export) (?!type )[^;]*?from '(\.{1,2}\/[^']+)'/gm)) {
    staticClosure(resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'), seen);
  }
  return seen;
}

test('GIVEN the CLI entry WHEN its static imports are followed THEN every run loads the program and the table of commands alone, no spec and no command body', () => {
  const src = join(root, 'src');
  const loaded = [...staticClosure(join(src, 'cli', 'bin.ts'))].map((f) => relative(src, f).split('\\').join('/')).sort();
  for (const f of loaded) assert.match(f, /^cli\/(bin|main|program|specs\/alone)\.ts$/, `${f} is loaded by every run of pve-k3s`);
  assert.ok(loaded.includes('cli/specs/alone.ts'));
  assert.ok(!loaded.includes('cli/specs/index.ts'), 'the whole table loads only when a run needs it');
});

test('GIVEN the table of commands built alone WHEN compared with the command table THEN each top-level command but completion is there, as the very same entry', async () => {
  const names = buildProgram(() => undefined).commands.map((c) => c.name());
  assert.equal(names.length, COMMANDS.length);
  const alone = names.filter((n) => n !== 'completion');
  assert.deepEqual(Object.keys(ALONE), alone, 'the same names, in the order of the table');
  for (const [i, name] of names.entries()) if (name !== 'completion') assert.equal(await ALONE[name]!(), COMMANDS[i], name);
});

test('GIVEN command lines WHEN the command to build alone is chosen THEN only a certain one is, anything else builds them all', () => {
  assert.equal(aloneCommand(['status']), 'status');
  assert.equal(aloneCommand(['-c', 'status', 'plan', '-o', 'json']), 'plan');
  assert.equal(aloneCommand(['--config', 'x.yaml', '-q', '--no-persist', 'upgrade', '--yes']), 'upgrade');
  assert.equal(aloneCommand(['--config=x.yaml', 'backup', 'schedule', 'list']), 'backup');
  assert.equal(aloneCommand(['status', '--help']), 'status');
  for (const argv of [
    [],
    ['--help'],
    ['-h', 'status'],
    ['--version'],
    ['help', 'status'],
    ['stauts'],
    ['completion', 'bash'],
    ['-qc', 'status', 'plan'],
    ['--', 'status'],
  ])
    assert.equal(aloneCommand(argv), undefined, argv.join(' '));
});

test('GIVEN an option that sets an inventory field WHEN its value is one the field refuses THEN the same words, exit 2', () => {
  const r = cli(['plan', '--channel', 'stable;id']);
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr,
    'error: --channel: must be a channel id such as stable, latest, testing or v1.31, got "stable;id"\n' +
      "  Use a channel that the channel server lists (`stable` by default). (the inventory's k3s.channel takes the same values)\n",
  );
  for (const args of [
    ['lab', 'init', '--k3s-version', 'v1.33.5+k3s1;id'],
    ['upgrade', '--k3s-version', 'v1.33.5+k3s1;id'],
    ['status', '--version', 'v1.33.5+k3s1;id'],
  ]) {
    const x = cli(args);
    assert.equal(x.status, 2, args.join(' '));
    assert.match(
      x.stderr,
      /^error: --(k3s-)?version: must be a k3s version such as v1\.33\.5\+k3s1, got "v1\.33\.5\+k3s1;id"\n/,
      args.join(' '),
    );
  }
});
