/**
 * The completion scripts in the real shells: bash sources the script and runs its function on
 * COMP_WORDS/COMP_CWORD (compgen does the matching); fish answers `complete -C`; zsh runs the
 * function with its completion builtins replaced by ones that print what they are given. Node
 * names come from the inventory through `pve-k3s` on PATH, as they would for a user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/fixtures.js';

const INVENTORY = (names: string[]) =>
  `cluster: c\nhosts: { pve1: { local: true } }\nnodes:\n${names.map((n, i) => `  ${n}: { vmid: ${101 + i}, host: pve1, role: ${i ? 'agent' : 'server'} }\n`).join('')}`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-completion-'));
  mkdirSync(join(dir, 'bin'));
  const wrapper = join(dir, 'bin', 'pve-k3s');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot(), 'dist', 'src', 'cli', 'bin.js')}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(join(dir, 'pve-k3s.yaml'), INVENTORY(['cp1', 'worker-a', 'worker-b']));
  writeFileSync(join(dir, 'other.yaml'), INVENTORY(['x-server', 'x-agent']));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}`,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  delete env['PVE_K3S_CONFIG'];
  return { dir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test('GIVEN the bash script sourced in bash WHEN words are completed THEN commands, options, choices, files and node names', () => {
  const s = setup();
  try {
    const cases: Array<[string[], string[]]> = [
      [['pve-k3s', 'up'], ['upgrade']],
      [
        ['pve-k3s', 'lab', ''],
        ['init', 'reset', 'status', 'migrate'],
      ],
      [
        ['pve-k3s', 'upgrade', '--dr'],
        ['--dry-run', '--drain-timeout', '--drain-force', '--drain-grace-period', '--drain-on-timeout'],
      ],
      [
        ['pve-k3s', 'upgrade', '--order', ''],
        ['auto', 'workers-first', 'servers-first'],
      ],
      [['pve-k3s', 'status', '-o', 'j'], ['json']],
      [['pve-k3s', 'status', '--output', '=', 'y'], ['yaml']],
      [
        ['pve-k3s', 'completion', ''],
        ['bash', 'zsh', 'fish'],
      ],
      [
        ['pve-k3s', 'join', ''],
        ['cp1', 'worker-a', 'worker-b'],
      ],
      [
        ['pve-k3s', 'uninstall', 'worker-'],
        ['worker-a', 'worker-b'],
      ],
      [
        ['pve-k3s', '-c', 'other.yaml', 'doctor', ''],
        ['x-server', 'x-agent'],
      ],
      [['pve-k3s', 'doctor', '--config', 'other.yaml', 'x-a'], ['x-agent']],
      [['pve-k3s', 'join', 'cp1', ''], []],
      [['pve-k3s', '-c', 'oth'], ['other.yaml']],
      [['pve-k3s', 'import', 'ansible', 'pve-'], ['pve-k3s.yaml']],
      [['pve-k3s', 'plan', '--k3s-version', ''], []],
    ];
    const script = [
      'source <(pve-k3s completion bash)',
      ...cases.map(
        ([words]) =>
          `COMP_WORDS=(${words.map(q).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _pve_k3s; printf '%s\\n' "\${COMPREPLY[*]}"`,
      ),
    ].join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: s.dir, env: s.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    cases.forEach(([words, want], i) =>
      assert.deepEqual((lines[i] ?? '').split(' ').filter(Boolean).sort(), [...want].sort(), words.join(' ')),
    );
    // complete -p: the function is registered for the command
    const reg = spawnSync('bash', ['--norc', '-c', 'source <(pve-k3s completion bash); complete -p pve-k3s'], {
      cwd: s.dir,
      env: s.env,
      encoding: 'utf8',
    });
    assert.equal(reg.stdout, 'complete -F _pve_k3s pve-k3s\n');
  } finally {
    s.cleanup();
  }
});

test(
  'GIVEN the fish script WHEN fish completes a command line THEN the same answers, with descriptions',
  { skip: !has('fish') && 'fish is not installed' },
  () => {
    const s = setup();
    try {
      const ask = (line: string) =>
        spawnSync('fish', ['--no-config', '-c', `pve-k3s completion fish | source; complete -C ${q(line)}`], {
          cwd: s.dir,
          env: s.env,
          encoding: 'utf8',
        });
      const names = (line: string) =>
        ask(line)
          .stdout.split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t')[0])
          .sort();
      assert.deepEqual(names('pve-k3s lab '), ['init', 'migrate', 'reset', 'status']);
      assert.match(ask('pve-k3s lab ').stdout, /^init\tcreate a fresh lab/m);
      assert.deepEqual(names('pve-k3s upgrade --order '), ['auto', 'servers-first', 'workers-first']);
      assert.deepEqual(names('pve-k3s join '), ['cp1', 'worker-a', 'worker-b']);
      assert.deepEqual(names('pve-k3s -c other.yaml uninstall '), ['x-agent', 'x-server']);
      assert.deepEqual(names('pve-k3s status --ch'), ['--channel', '--check']);
    } finally {
      s.cleanup();
    }
  },
);

test(
  'GIVEN the zsh script WHEN its function runs on words THEN it offers the same, through _describe and compadd',
  { skip: !has('zsh') && 'zsh is not installed' },
  () => {
    const s = setup();
    try {
      const run = (words: string[]) => {
        const script = [
          'compdef() { : }',
          'source <(pve-k3s completion zsh)',
          'compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}" }',
          '_describe() { print -rl -- "${(@P)4}" }',
          '_files() { print -r -- "<files $*>" }',
          'compset() { : }',
          `words=(${words.map(q).join(' ')}); CURRENT=${words.length}; _pve_k3s`,
        ].join('\n');
        const r = spawnSync('zsh', ['-f', '-c', script], { cwd: s.dir, env: s.env, encoding: 'utf8' });
        assert.equal(r.stderr, '');
        return r.stdout.split('\n').filter(Boolean);
      };
      assert.deepEqual(
        run(['pve-k3s', 'lab', '']).map((l) => l.split(':')[0]),
        ['init', 'reset', 'status', 'migrate'],
      );
      assert.deepEqual(run(['pve-k3s', 'join', '']), ['cp1', 'worker-a', 'worker-b']);
      assert.deepEqual(run(['pve-k3s', '-c', 'other.yaml', 'doctor', '']), ['x-server', 'x-agent']);
      assert.deepEqual(run(['pve-k3s', 'upgrade', '--drain-on-timeout', '']), ['fail', 'disable-eviction']);
      assert.deepEqual(run(['pve-k3s', 'import', 'ansible', '']), ['<files >']);
      assert.ok(
        run(['pve-k3s', 'status', '--']).includes(
          '--check:one Nagios-style line; exit 0 ok, 1 warning, 2 critical (for cron and monitors)',
        ),
      );
    } finally {
      s.cleanup();
    }
  },
);

test('GIVEN no inventory WHEN node names are asked THEN nothing, exit 0 (never an error in the command line)', () => {
  const s = setup();
  try {
    rmSync(join(s.dir, 'pve-k3s.yaml'));
    const r = spawnSync('pve-k3s', ['__complete', 'nodes'], { cwd: s.dir, env: s.env, encoding: 'utf8' });
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', '']);
    const json = spawnSync('pve-k3s', ['completion', 'bash', '-o', 'json'], { cwd: s.dir, env: s.env, encoding: 'utf8' });
    assert.equal(json.status, 2);
    assert.equal(json.stderr, 'error: pve-k3s completion prints a shell script: -o json does not apply to it\n  Run it without -o.\n');
  } finally {
    s.cleanup();
  }
});
