import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { confirm } from '../../src/cli/confirm.js';
import { AbortedError } from '../../src/domain/errors.js';
import { labFixture } from '../helpers/lab-cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { kubelets } from '../safety/helpers.js';

function io() {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (d: Buffer) => (written += d.toString()));
  return { input, output, written: () => written };
}

test('GIVEN y or yes WHEN asked THEN true; anything else is false', async () => {
  for (const [answer, want] of [
    ['y', true],
    ['YES', true],
    ['n', false],
    ['', false],
    ['yep', false],
  ] as const) {
    const s = io();
    const asked = confirm('Go? [y/N] ', s);
    s.input.write(`${answer}\n`);
    assert.equal(await asked, want, answer);
  }
});

test('GIVEN the input ends at the prompt (Ctrl-D, a closed pipe) WHEN asked THEN AbortedError `aborted` (exit 130), the prompt line closed', async () => {
  const s = io();
  const asked = confirm('Go? [y/N] ', s);
  s.input.end();
  await assert.rejects(asked, (e: unknown) => {
    assert.ok(e instanceof AbortedError);
    assert.equal(e.message, 'aborted');
    assert.equal(e.exitCode, 130);
    return true;
  });
  assert.equal(s.written(), 'Go? [y/N] \n');
});

const hasScript = spawnSync('script', ['--version']).status === 0;

test(
  'GIVEN Ctrl-C at the [y/N] prompt of upgrade on a terminal WHEN pressed THEN `aborted`, exit 130, nothing changed',
  { skip: !hasScript && 'needs script(1) for a terminal' },
  async () => {
    const f = await labFixture({ workers: 1 });
    try {
      const bin = join(repoRoot(), 'dist', 'src', 'cli', 'bin.js');
      // script(1) gives the CLI a terminal; -e returns its exit status.
      const child = spawn('script', ['-qefc', `${process.execPath} ${bin} upgrade`, '/dev/null'], { cwd: f.dir, env: f.env });
      let out = '';
      let sent = false;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!sent && out.includes('[y/N]')) {
          sent = true;
          child.stdin.write('\x03');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 130, out);
      assert.match(out, /\[y\/N\] .*\r?\naborted\r?\n/s);
      assert.doesNotMatch(out, /this is a bug|error:/);
      assert.deepEqual(kubelets(f.lab), new Set(['v1.33.3+k3s1']), 'nothing was upgraded');
    } finally {
      f.cleanup();
    }
  },
);
