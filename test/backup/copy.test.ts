/** Off-host copies: to a directory (re-read and checked, retention applied there) and over rsync/SSH (sha256sum -c on the far side). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';
import { labBreak } from '../../src/lab/index.js';

cliInProcess();

test('GIVEN --copy-to a directory and an rsync/SSH destination WHEN backups run THEN both copies exist, are checked, and the directory keeps the same retention', async () => {
  const f = await labFixture({});
  try {
    f.lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'sqlite3' }));
    // An ssh that runs the remote command here (rsync's server side, then sha256sum -c).
    const bin = join(f.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'ssh'), '#!/bin/sh\nwhile [ "$1" = "-o" ] || [ "$1" = "-l" ]; do shift 2; done\nshift\nexec sh -c "$*"\n');
    chmodSync(join(bin, 'ssh'), 0o755);
    f.env['PATH'] = `${bin}:${process.env['PATH'] ?? ''}`;
    const nas = join(f.dir, 'nas');
    const far = join(f.dir, 'far');
    for (let i = 0; i < 3; i++) {
      const r = await f.cli(['backup', '--keep', '2', '--copy-to', nas, '--copy-to', `backup@nas:${far}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`copy to ${nas.replace(/[/.]/g, '\\$&')}: OK, checksums match`));
      assert.match(r.stdout, /copy to backup@nas:\S+: OK, checksums match \(backup@nas:\S+\/lab-\d{8}T\d{6}Z(-\d)?\)/);
    }
    assert.equal(readdirSync(nas).filter((n) => n.startsWith('lab-')).length, 2, 'the retention applies to the directory copy');
    const remote = readdirSync(far).filter((n) => n.startsWith('lab-'));
    assert.equal(remote.length, 3, 'the rsync destination keeps what it gets');
    for (const d of remote) assert.ok(existsSync(join(far, d, 'SHA256SUMS')) && existsSync(join(far, d, 'k3s-ctrl-1/state.db')));
    // A destination that cannot take the copy: the run fails, the local backup stays.
    writeFileSync(join(f.dir, 'file'), 'x');
    const bad = await f.cli(['backup', '--copy-to', join(f.dir, 'file')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /copy to .*\/file: FAILED: /);
  } finally {
    f.cleanup();
  }
});
