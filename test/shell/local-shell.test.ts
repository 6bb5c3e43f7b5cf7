import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ShellError } from '../../src/domain/errors.js';
import { LocalShell } from '../../src/shell/local-shell.js';
import { fixtureDir, splitNul, type FixtureDir } from './helpers/fixtures.js';

describe('LocalShell', () => {
  let fx: FixtureDir;
  let sh: LocalShell;
  before(() => {
    fx = fixtureDir();
    fx.add('exit-with', `printf 'out\\n'; printf 'err\\n' >&2; exit "$1"`);
    fx.add('print-argv', `for a; do printf '%s\\0' "$a"; done`);
    fx.add('echo-stdin', 'cat');
    fx.add('sleep-long', 'exec sleep 30');
    fx.add('sleep-in-child', 'sleep 30; echo never');
    fx.add('killed', 'echo before; kill -9 $$');
    fx.add('no-exec-bit', 'echo hi', 0o644);
    fx.add('show-env', 'printf "%s" "$PVE_K3S_TEST_VAR"');
    sh = new LocalShell({ host: 'pve1', path: `${fx.dir}:/usr/bin:/bin`, env: { PVE_K3S_TEST_VAR: 'from-env' } });
  });
  after(() => fx.remove());

  test('GIVEN a command exiting 3 THEN code, stdout and stderr are all returned', async () => {
    assert.deepEqual(await sh.run(['exit-with', '3']), { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.deepEqual(await sh.run(['exit-with', '255']), { code: 255, stdout: 'out\n', stderr: 'err\n' });
    assert.equal((await sh.run(['exit-with', '0'])).code, 0);
  });

  test('argv reaches the program unchanged, with no shell in between', async () => {
    const argv = ['$(id)', '`id`', "it's", 'a b', '*', '~', '-n', '', 'x\ny', 'ünï 🚀'];
    const r = await sh.run(['print-argv', ...argv]);
    assert.deepEqual(splitNul(r.stdout), argv);
  });

  test('stdin is written to the command and closed', async () => {
    const input = 'line 1\nsecret: s3cr3t\nno newline at end';
    assert.deepEqual(await sh.run(['echo-stdin'], { stdin: input }), { code: 0, stdout: input, stderr: '' });
  });

  test('without stdin the command reads end-of-file at once', async () => {
    assert.deepEqual(await sh.run(['echo-stdin'], { timeoutMs: 5000 }), { code: 0, stdout: '', stderr: '' });
  });

  test('output is kept whole: trailing newlines and large output', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const r = await sh.run(['echo-stdin'], { stdin: `${big}\n\n` });
    assert.equal(r.stdout.length, big.length + 2);
  });

  test('env and path overrides reach the command', async () => {
    assert.equal((await sh.run(['show-env'])).stdout, 'from-env');
  });

  test('a missing program gives 127 and a shell-like message, not an exception', async () => {
    assert.deepEqual(await sh.run(['no-such-program-pvek3s']), {
      code: 127,
      stdout: '',
      stderr: 'sh: 1: no-such-program-pvek3s: not found\n',
    });
  });

  test('a file without the execute bit gives 126', async () => {
    assert.equal((await sh.run(['no-exec-bit'])).code, 126);
  });

  test('a command killed by a signal reports 128+n with its output', async () => {
    assert.deepEqual(await sh.run(['killed']), { code: 137, stdout: 'before\n', stderr: '' });
  });

  test('timeoutMs kills the command and throws ShellError{timedOut}', async () => {
    const t0 = Date.now();
    await assert.rejects(sh.run(['sleep-long'], { timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof ShellError);
      assert.equal(e.timedOut, true);
      assert.equal(e.unreachable, false);
      assert.equal(e.host, 'pve1');
      assert.equal(e.message, 'command timed out after 0.2s on pve1: sleep-long');
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a timeout also ends when a grandchild keeps the output open', async () => {
    const t0 = Date.now();
    await assert.rejects(sh.run(['sleep-in-child'], { timeoutMs: 200 }), { name: 'ShellError', timedOut: true });
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  });

  test('an AbortSignal stops the command and throws ShellError', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(sh.run(['sleep-long'], { signal: ac.signal }), (e: unknown) => {
      assert.ok(e instanceof ShellError);
      assert.equal(e.timedOut, false);
      assert.equal(e.message, 'command aborted on pve1: sleep-long');
      return true;
    });
  });

  test('an already aborted signal throws before anything runs', async () => {
    await assert.rejects(sh.run(['exit-with', '0'], { signal: AbortSignal.abort() }), { name: 'ShellError' });
  });

  test('a NUL byte in argv is a TypeError', async () => {
    await assert.rejects(sh.run(['print-argv', 'a\0b']), TypeError);
  });

  test('close() is safe to call twice', async () => {
    await sh.close();
    await sh.close();
  });
});
