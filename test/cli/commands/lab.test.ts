import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/lab-cli.js';

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-labcmd-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    NO_COLOR: '1',
  };
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  return { dir, cli, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('GIVEN --dir naming a directory that holds other things WHEN lab init THEN refused, exit 2, and nothing in it deleted', async () => {
  const s = sandbox();
  try {
    const precious = join(s.dir, 'work');
    mkdirSync(precious);
    writeFileSync(join(precious, 'notes.txt'), 'keep me');
    const r = await s.cli(['lab', 'init', '--dir', 'work']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `error: refusing to create a lab in ${precious}: it is not empty and holds no lab (no state.json among its 1 entry); lab init replaces everything in its directory\n` +
        `  give a new or empty directory with --dir, or remove ${precious} yourself\n`,
    );
    assert.equal(readFileSync(join(precious, 'notes.txt'), 'utf8'), 'keep me');
    assert.equal(existsSync(join(s.dir, 'pve-k3s.yaml')), false, 'no inventory written');
  } finally {
    s.cleanup();
  }
});

test("GIVEN --dir naming a file, or a state.json that is not a lab's WHEN lab init THEN refused, exit 2", async () => {
  const s = sandbox();
  try {
    writeFileSync(join(s.dir, 'file'), 'x');
    const a = await s.cli(['lab', 'init', '--dir', 'file']);
    assert.equal(a.code, 2);
    assert.equal(
      a.stderr,
      `error: cannot create a lab in ${join(s.dir, 'file')}: it is a file\n  give a new or empty directory with --dir\n`,
    );
    mkdirSync(join(s.dir, 'app'));
    writeFileSync(join(s.dir, 'app', 'state.json'), '{"some":"app"}');
    const b = await s.cli(['lab', 'init', '--dir', 'app']);
    assert.equal(b.code, 2);
    assert.match(
      b.stderr,
      /^error: refusing to create a lab in .*\/app: it is not empty and holds no lab \(its state\.json is not a lab's\);/,
    );
    assert.equal(readFileSync(join(s.dir, 'app', 'state.json'), 'utf8'), '{"some":"app"}');
  } finally {
    s.cleanup();
  }
});

test('GIVEN an empty directory, or a lab WHEN lab init THEN the lab is made there (a lab is replaced)', async () => {
  const s = sandbox();
  try {
    mkdirSync(join(s.dir, 'empty'));
    const a = await s.cli(['lab', 'init', '--dir', 'empty', '--workers', '1']);
    assert.equal(a.code, 0, a.stderr);
    const b = await s.cli(['lab', 'init', '--dir', 'empty', '--workers', '2']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^Created a lab with 1 server\(s\) and 2 worker\(s\)/);
  } finally {
    s.cleanup();
  }
});

test('GIVEN a lab whose upgrade was recorded WHEN lab reset THEN its journal is removed with it (upgrade no longer finds a run in progress)', async () => {
  const s = sandbox();
  try {
    assert.equal((await s.cli(['lab', 'init', '--dir', 'lab', '--workers', '1'])).code, 0);
    const journal = join(s.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl');
    mkdirSync(join(journal, '..'), { recursive: true });
    // A run that never ended (its process killed): upgrade refuses while it is recorded.
    writeFileSync(
      journal,
      JSON.stringify({
        v: 1,
        t: '2026-12-01T10:00:00.000Z',
        type: 'run-start',
        run: 'r1',
        target: 'v1.33.5+k3s1',
        source: 'channel stable',
        order: 'auto',
        allowSkew: false,
        holder: 'ops@elsewhere pid 1',
        steps: ['k3s-worker-1/drain'],
      }) + '\n',
    );
    const refused = await s.cli(['upgrade', '--yes']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /an upgrade of lab is recorded in progress: run r1/);
    const r = await s.cli(['lab', 'reset']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Reset the lab in ${join(s.dir, 'lab')} to its initial state and removed its journal ${journal}.\n`);
    assert.equal(existsSync(journal), false);
    const resume = await s.cli(['resume', '--yes']);
    assert.match(resume.stdout, /^Nothing to resume: no upgrade of lab is recorded\./);
    const again = await s.cli(['lab', 'reset']);
    assert.equal(again.stdout, `Reset the lab in ${join(s.dir, 'lab')} to its initial state.\n`);
  } finally {
    s.cleanup();
  }
});
