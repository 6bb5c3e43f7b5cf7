import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { controlPathFor, defaultControlDir, ensurePrivateDir, socketState, sshControlPathOption } from '../../src/shell/control-dir.js';

describe('control directory', () => {
  test('the default is short enough for a unix socket path', () => {
    const path = controlPathFor(defaultControlDir(), { destination: 'root@pve1' });
    assert.match(path, /^\/tmp\/pve-k3s-[^/]+\/[0-9a-f]{40}$/);
    assert.ok(path.length < 104);
  });

  test('a directory too long for a unix socket is refused, `%` is escaped for ssh', () => {
    assert.throws(() => controlPathFor(`/tmp/${'x'.repeat(80)}`, { destination: 'pve1' }), /too long for a unix socket/);
    assert.equal(sshControlPathOption('/tmp/a%b/c'), '/tmp/a%%b/c');
  });

  test('one socket per connection: the same destination, config file and options give the same path, any change another', () => {
    const p = (id: Parameters<typeof controlPathFor>[1]) => controlPathFor('/tmp/d', id);
    const base = { destination: 'root@pve1', configFile: '/c', extraOptions: ['-p', '22'] };
    assert.equal(p(base), p({ ...base, extraOptions: ['-p', '22'] }));
    const others = [p({ ...base, destination: 'pve1' }), p({ ...base, configFile: undefined }), p({ ...base, extraOptions: [] })];
    assert.equal(new Set([p(base), ...others]).size, 4);
  });

  test('socketState: none without a file, alive while something listens, stale when connecting is refused', async () => {
    const base = mkdtempSync('/tmp/pk-cd-');
    try {
      const path = join(base, 's');
      assert.equal(await socketState(path), 'none');
      const srv = createServer((c) => c.destroy());
      await new Promise<void>((r) => srv.listen(path, r));
      assert.equal(await socketState(path), 'alive');
      await new Promise((r) => srv.close(r));
      writeFileSync(path, '');
      assert.equal(await socketState(path), 'stale');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
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
