import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPathFor, defaultControlDir, ensurePrivateDir } from '../../src/shell/control-dir.js';

describe('control directory', () => {
  test('the default is short enough for a unix socket path', () => {
    const path = controlPathFor(defaultControlDir());
    assert.match(path, /^\/tmp\/pve-k3s-[^/]+\/%C$/);
    assert.ok(path.length - 2 + 40 < 104);
  });

  test('a directory too long for a unix socket is refused, `%` is escaped', () => {
    assert.throws(() => controlPathFor(`/tmp/${'x'.repeat(80)}`), /too long for a unix socket/);
    assert.equal(controlPathFor('/tmp/a%b'), '/tmp/a%%b/%C');
  });

  test('ensurePrivateDir creates 0700, tightens a loose mode, refuses a symlink or a file', async () => {
    const base = mkdtempSync('/tmp/pk-cd-');
    try {
      const d = join(base, 'ctl');
      await ensurePrivateDir(d);
      assert.equal(statSync(d).mode & 0o777, 0o700);
      chmodSync(d, 0o755);
      await ensurePrivateDir(d);
      assert.equal(statSync(d).mode & 0o777, 0o700);
      mkdirSync(join(base, 'real'));
      symlinkSync(join(base, 'real'), join(base, 'link'));
      await assert.rejects(ensurePrivateDir(join(base, 'link')), /is not a directory/);
      writeFileSync(join(base, 'file'), '');
      await assert.rejects(ensurePrivateDir(join(base, 'file')));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
