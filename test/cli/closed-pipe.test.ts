/**
 * A reader that closes the pipe early (`pve-k3s plan --help | head`): the CLI drops the rest of
 * its output instead of crashing with Node's "Unhandled 'error' event ... EPIPE", and exits with
 * its own status. `true` exits before Node has started, so every write meets a closed pipe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';

const bin = join(repoRoot(), 'dist', 'src', 'cli', 'bin.js');
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs the CLI with stdout (and, with `both`, stderr) into a pipe nobody reads; its exit status and what it wrote to stderr otherwise. */
function intoClosedPipe(args: string, both = false): { code: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-pipe-'));
  try {
    const cli = `${q(process.execPath)} ${q(bin)} ${args}`;
    const script = both
      ? `{ ${cli}; echo $? > ${q(join(dir, 'rc'))}; } 2>&1 | true; touch ${q(join(dir, 'err'))}`
      : `{ ${cli} 2>${q(join(dir, 'err'))}; echo $? > ${q(join(dir, 'rc'))}; } | true; touch ${q(join(dir, 'err'))}`;
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return { code: Number(readFileSync(join(dir, 'rc'), 'utf8').trim()), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('GIVEN stdout piped into a reader that has exited WHEN help or the version is printed THEN exit 0 and no EPIPE crash', () => {
  for (const args of ['plan --help', '--help', 'version']) {
    const r = intoClosedPipe(args);
    assert.equal(r.code, 0, `pve-k3s ${args}: ${r.stderr}`);
    assert.equal(r.stderr, '', `pve-k3s ${args}`);
  }
});

test('GIVEN stdout and stderr both into a closed pipe WHEN a command fails THEN its own exit status (2 for usage), not a crash', () => {
  assert.equal(intoClosedPipe('plan --no-such-flag', true).code, 2);
  assert.equal(intoClosedPipe('-c /nonexistent/pve-k3s.yaml status', true).code, 2);
});
