import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combineShells, MAX_COMBINED_SCRIPT } from '../../src/proxmox/combine.js';
import { LocalShell } from '../../src/shell/local-shell.js';
import { buildBatch } from '../../src/proxmox/batch.js';
import { ShellError } from '../../src/domain/errors.js';
import type { RunOptions, RunResult, Shell } from '../../src/shell/shell.js';
import { labFixture } from '../helpers/lab-cli.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A host whose `sh` is `impl` (dash, or busybox sh): scripts run by real shells. */
function realShell(impl: 'dash' | 'busybox'): { shell: Shell; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-combine-'));
  if (impl === 'dash') symlinkSync(spawnSync('sh', ['-c', 'command -v dash'], { encoding: 'utf8' }).stdout.trim(), join(dir, 'sh'));
  else {
    writeFileSync(join(dir, 'sh'), '#!/bin/dash\nexec busybox sh "$@"\n');
    chmodSync(join(dir, 'sh'), 0o755);
  }
  return {
    shell: new LocalShell({ host: 'pve1', path: `${dir}:/usr/bin:/bin` }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What a batch-style probe looks like: its own frames, its own lanes, its own private directory. */
const probeLike = buildBatch(
  [{ argv: ['echo', 'one'] }, { argv: ['sh', '-c', 'echo two >&2; exit 4'] }, { argv: ['printf', '%s', 'no newline'] }],
  { parallel: 2 },
).script;

const SCRIPTS: Record<string, string> = {
  'stdout, stderr and a non-zero exit': 'echo out\necho err >&2\nexit 3\n',
  'reads nothing, prints no newline': "printf 'last'\n",
  'its $0, $1 and $#': 'echo "[$0][$1][$#]"\n',
  'silent success': 'true\n',
  'a batch of its own (other frames)': probeLike,
  'frame-looking text':
    "echo '@@pve-k3s:0123456789abcdef begin 0'\necho '@@pve-k3s:0123456789abcdef end 1 0'\necho '@@pve-k3s:0123456789abcdef end 0 7' >&2\nexit 2\n",
};
const LARGE = 'seq 1 200000\nseq 1 50000 >&2\n';

async function alone(shell: Shell, script: string): Promise<RunResult> {
  return shell.run(['sh', '-s'], { stdin: script });
}

async function together(shell: Shell, scripts: string[]): Promise<{ results: RunResult[]; requests: number }> {
  const c = combineShells(new Map([[shell.host, shell]]));
  const s = c.shells.get(shell.host)!;
  const results = await Promise.all(scripts.map((script) => s.run(['sh', '-s'], { stdin: script, timeoutMs: 60_000 })));
  return { results, requests: c.requests.get(shell.host)! };
}

for (const impl of ['dash', 'busybox'] as const) {
  test(
    `combine: two scripts in one request give each what it gets alone (${impl})`,
    { skip: !has(impl) && `${impl} not installed` },
    async () => {
      const { shell, cleanup } = realShell(impl);
      try {
        const names = Object.keys(SCRIPTS);
        for (const a of names)
          for (const b of names) {
            if (a === b) continue;
            const scripts = [SCRIPTS[a]!, SCRIPTS[b]!];
            const { results, requests } = await together(shell, scripts);
            assert.equal(requests, 1, `${a} + ${b}: one request`);
            assert.deepEqual(results, [await alone(shell, scripts[0]!), await alone(shell, scripts[1]!)], `${a} + ${b}`);
          }
        const { results } = await together(shell, [LARGE, SCRIPTS['stdout, stderr and a non-zero exit']!]);
        assert.equal(results[0]!.stdout.length, (await alone(shell, LARGE)).stdout.length);
        assert.deepEqual(results, [await alone(shell, LARGE), await alone(shell, SCRIPTS['stdout, stderr and a non-zero exit']!)]);
        // Three at once, too.
        const three = [SCRIPTS['silent success']!, probeLike, SCRIPTS['its $0, $1 and $#']!];
        assert.deepEqual((await together(shell, three)).results, await Promise.all(three.map((s) => alone(shell, s))));
      } finally {
        cleanup();
      }
    },
  );
}

test("combine: two scripts in one request give each what it gets alone (the lab's sh)", async () => {
  const f = await labFixture({ servers: 1, workers: 0, hosts: 1 });
  try {
    const shell = f.lab.shell(f.lab.hosts()[0]!);
    // The lab's sh runs and-or lists, not loops: no `seq` program needed beyond what it has.
    const scripts = [
      SCRIPTS['stdout, stderr and a non-zero exit']!,
      SCRIPTS['reads nothing, prints no newline']!,
      probeLike,
      SCRIPTS['frame-looking text']!,
      buildBatch([{ argv: ['pct', 'list'] }, { argv: ['cat', '/etc/pve/storage.cfg'] }], { parallel: 8 }).script,
    ];
    const want = [];
    for (const s of scripts) want.push(await alone(shell, s));
    for (let i = 0; i + 1 < scripts.length; i++) {
      const { results, requests } = await together(shell, [scripts[i]!, scripts[i + 1]!]);
      assert.equal(requests, 1);
      assert.deepEqual(results, [want[i], want[i + 1]], `scripts ${i} and ${i + 1}`);
    }
  } finally {
    f.cleanup();
  }
});

/** Records what reaches the host and answers from `answer`. */
class Recorder implements Shell {
  readonly host = 'pve1';
  calls: Array<{ argv: readonly string[]; opts: RunOptions }> = [];
  constructor(readonly answer: (argv: readonly string[], opts: RunOptions) => Promise<RunResult>) {}
  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv, opts });
    return this.answer(argv, opts);
  }
  async close(): Promise<void> {}
}

const local = new LocalShell({ host: 'pve1' });

test('combine: a request alone in its turn, and what is not `sh -s` with stdin, go through unchanged', async () => {
  const r = new Recorder((argv, opts) => local.run(argv, opts));
  const c = combineShells(new Map([['pve1', r]]));
  const s = c.shells.get('pve1')!;
  const ac = new AbortController();
  const script = 'echo hi\n';
  assert.deepEqual(await s.run(['sh', '-s'], { stdin: script, timeoutMs: 5000, signal: ac.signal }), {
    code: 0,
    stdout: 'hi\n',
    stderr: '',
  });
  assert.deepEqual(r.calls, [{ argv: ['sh', '-s'], opts: { stdin: script, timeoutMs: 5000, signal: ac.signal } }]);
  r.calls = [];
  // In the same turn as `sh -s` requests, others still go alone and at once.
  const p = [
    s.run(['echo', 'a']),
    s.run(['sh', '-s']),
    s.run(['sh', '-c', 'echo b'], { stdin: 'x' }),
    // Short, but its quotes make it too long for one argument once quoted.
    s.run(['sh', '-s'], { stdin: `: ${"''".repeat(MAX_COMBINED_SCRIPT / 6)}\n` }),
  ];
  assert.equal(r.calls.length, 4, 'sent before the turn ends');
  await Promise.all(p);
  assert.deepEqual(
    r.calls.map((c) => c.argv),
    [
      ['echo', 'a'],
      ['sh', '-s'],
      ['sh', '-c', 'echo b'],
      ['sh', '-s'],
    ],
  );
});

test('combine: the combined request is one `sh -s` with the longest timeout; flush() sends it at once', async () => {
  const r = new Recorder((argv, opts) => local.run(argv, opts));
  const c = combineShells(new Map([['pve1', r]]));
  const s = c.shells.get('pve1')!;
  const p = [s.run(['sh', '-s'], { stdin: 'echo a\n', timeoutMs: 1000 }), s.run(['sh', '-s'], { stdin: 'echo b\n', timeoutMs: 9000 })];
  assert.equal(r.calls.length, 0, 'waits for the end of the turn');
  c.flush();
  assert.equal(r.calls.length, 1);
  assert.deepEqual(r.calls[0]!.argv, ['sh', '-s']);
  assert.equal(r.calls[0]!.opts.timeoutMs, 9000);
  assert.deepEqual(await Promise.all(p), [
    { code: 0, stdout: 'a\n', stderr: '' },
    { code: 0, stdout: 'b\n', stderr: '' },
  ]);
  // Without a timeout on one of them, the request has none.
  const q = [s.run(['sh', '-s'], { stdin: 'true\n', timeoutMs: 1000 }), s.run(['sh', '-s'], { stdin: 'true\n' })];
  c.flush();
  await Promise.all(q);
  assert.equal(r.calls[1]!.opts.timeoutMs, undefined);
  // The combined script itself is clean sh.
  if (has('shellcheck')) {
    // SC2016: the batch quotes $1 for an inner `sh -c` on purpose (as test/conformance does).
    const sc = spawnSync('shellcheck', ['-s', 'sh', '-e', 'SC2016', '-'], { input: r.calls[0]!.opts.stdin, encoding: 'utf8' });
    assert.equal(sc.status, 0, sc.stdout);
  }
});

test('combine: hosts stay apart: one request per host', async () => {
  const a = new Recorder((argv, opts) => local.run(argv, opts));
  const b = Object.assign(new Recorder((argv, opts) => local.run(argv, opts)), { host: 'pve2' });
  const c = combineShells(
    new Map<string, Shell>([
      ['pve1', a],
      ['pve2', b],
    ]),
  );
  const run = (h: string, t: string) => c.shells.get(h)!.run(['sh', '-s'], { stdin: `echo ${t}\n` });
  const got = await Promise.all([run('pve1', 'a1'), run('pve2', 'b1'), run('pve1', 'a2'), run('pve2', 'b2')]);
  assert.deepEqual(
    got.map((g) => g.stdout),
    ['a1\n', 'b1\n', 'a2\n', 'b2\n'],
  );
  assert.deepEqual([a.calls.length, b.calls.length], [1, 1]);
  assert.deepEqual(
    [...c.requests],
    [
      ['pve1', 1],
      ['pve2', 1],
    ],
  );
});

test('combine: a failure of the whole request reaches every caller as it is', async () => {
  const err = new ShellError('cannot reach Proxmox host pve1 (pve1): connection refused', { host: 'pve1', unreachable: true });
  const r = new Recorder(() => Promise.reject(err));
  const s = combineShells(new Map([['pve1', r]])).shells.get('pve1')!;
  const got = await Promise.allSettled([s.run(['sh', '-s'], { stdin: 'true\n' }), s.run(['sh', '-s'], { stdin: 'true\n' })]);
  assert.deepEqual(got, [
    { status: 'rejected', reason: err },
    { status: 'rejected', reason: err },
  ]);
  assert.equal(r.calls.length, 1);
  // A script that could not run at all (no frames): its words are each caller's answer.
  const dead = { code: 127, stdout: '', stderr: 'sh: not found\n' };
  const s2 = combineShells(new Map([['pve1', new Recorder(async () => dead)]])).shells.get('pve1')!;
  assert.deepEqual(await Promise.all([s2.run(['sh', '-s'], { stdin: 'true\n' }), s2.run(['sh', '-s'], { stdin: 'true\n' })]), [dead, dead]);
});

test('combine: a caller whose signal aborts gets its rejection; the other gets its result', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const r = new Recorder(async (argv, opts) => {
    await gate;
    return local.run(argv, { ...opts, signal: undefined });
  });
  const s = combineShells(new Map([['pve1', r]])).shells.get('pve1')!;
  const one = new AbortController();
  const two = new AbortController();
  const a = s.run(['sh', '-s'], { stdin: 'echo a\n', signal: one.signal });
  const b = s.run(['sh', '-s'], { stdin: 'echo b\n', signal: two.signal });
  await new Promise((res) => setImmediate(res));
  assert.equal(r.calls.length, 1);
  one.abort();
  await assert.rejects(a, (e: unknown) => e instanceof ShellError && e.message === 'command aborted on pve1: sh -s');
  assert.equal(r.calls[0]!.opts.signal?.aborted, false, 'the request goes on for the other');
  release();
  assert.deepEqual(await b, { code: 0, stdout: 'b\n', stderr: '' });
});

test('combine: when every caller aborted, the request itself is stopped and the shell says so to each', async () => {
  const r = new Recorder(
    (_argv, opts) =>
      new Promise((_res, rej) =>
        opts.signal!.addEventListener('abort', () =>
          rej(new ShellError('command aborted on pve1: sh -s', { host: 'pve1', hint: 'from the shell' })),
        ),
      ),
  );
  const s = combineShells(new Map([['pve1', r]])).shells.get('pve1')!;
  const one = new AbortController();
  const two = new AbortController();
  const p = Promise.allSettled([
    s.run(['sh', '-s'], { stdin: 'true\n', signal: one.signal }),
    s.run(['sh', '-s'], { stdin: 'true\n', signal: two.signal }),
  ]);
  await new Promise((res) => setImmediate(res));
  one.abort();
  two.abort();
  const got = await p;
  assert.equal((got[0] as PromiseRejectedResult).reason.message, 'command aborted on pve1: sh -s');
  assert.equal((got[1] as PromiseRejectedResult).reason.hint, 'from the shell');
  assert.equal(r.calls[0]!.opts.signal?.aborted, true);
});
