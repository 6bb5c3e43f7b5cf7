import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LocalShell } from '../../src/shell/local-shell.js';
import { ShellError } from '../../src/domain/errors.js';
import { findResponse, SessionLostError, sessionRequest } from '../../src/shell/session.js';

const NONCE = '0123abcd';

test('GIVEN a script WHEN framed THEN it is one line, and the script is not in it verbatim', () => {
  const line = sessionRequest('set -e\nK3S_TOKEN=s3cr%t\necho "$K3S_TOKEN" \\\n', NONCE, 7);
  assert.equal(line.split('\n').length, 2);
  assert.ok(line.endsWith('\n'));
  assert.equal(
    line,
    `printf '%s\\n' '@@pve-k3s:${NONCE} begin 7'; printf '%s\\n' '@@pve-k3s:${NONCE} begin 7' >&2; ` +
      `( eval "$(printf 'set -e\\nK3S_TOKEN=s3cr%%t\\necho "$K3S_TOKEN" \\\\\\n')" ) </dev/null; rc=$?; ` +
      `printf '\\n@@pve-k3s:${NONCE} end 7 %s\\n' "$rc" >&2; printf '\\n@@pve-k3s:${NONCE} end 7 %s\\n' "$rc"\n`,
  );
  assert.throws(() => sessionRequest('x', 'not hex', 1), TypeError);
  assert.throws(() => sessionRequest('a\0b', NONCE, 1), TypeError);
});

test('GIVEN what a session printed on its two streams WHEN parsed THEN the response is found only when both are complete, banners skipped', () => {
  const begin = `@@pve-k3s:${NONCE} begin 3\n`;
  const end = `\n@@pve-k3s:${NONCE} end 3 5\n`;
  const none = { stdout: 0, stderr: 0 };
  assert.deepEqual(findResponse({ stdout: 'motd\n', stderr: '' }, { nonce: NONCE, id: 3 }), { started: false, consumed: none });
  assert.deepEqual(findResponse({ stdout: `motd\n${begin}partial`, stderr: '' }, { nonce: NONCE, id: 3 }), {
    started: true,
    consumed: none,
  });
  const stdout = `motd\n${begin}out\nout2\n${end}next`;
  // stdout complete, stderr not yet: wait for it (unless the session has ended).
  assert.deepEqual(findResponse({ stdout, stderr: `${begin}err` }, { nonce: NONCE, id: 3 }), { started: true, consumed: none });
  assert.deepEqual(findResponse({ stdout, stderr: `${begin}err` }, { nonce: NONCE, id: 3, ended: true }).result, {
    code: 5,
    stdout: 'out\nout2\n',
    stderr: '',
  });
  const stderr = `Warning: banner\n${begin}err\n${end}`;
  assert.deepEqual(findResponse({ stdout, stderr }, { nonce: NONCE, id: 3 }), {
    started: true,
    result: { code: 5, stdout: 'out\nout2\n', stderr: 'err\n' },
    consumed: { stdout: stdout.length - 4, stderr: stderr.length },
  });
  const both = (s: string) => ({ stdout: s, stderr: s });
  assert.deepEqual(findResponse(both(`${begin}${end}`), { nonce: NONCE, id: 3 }).result, { code: 5, stdout: '', stderr: '' });
  assert.deepEqual(findResponse(both(`${begin}no newline${end}`), { nonce: NONCE, id: 3 }).result, {
    code: 5,
    stdout: 'no newline',
    stderr: 'no newline',
  });
  // Another request's markers, or a marker quoted in the output, do not end this one.
  assert.equal(findResponse(both(`${begin}@@pve-k3s:${NONCE} end 4 0\n`), { nonce: NONCE, id: 3 }).result, undefined);
});

test('GIVEN a real sh session WHEN scripts run THEN each gets its stdout, its stderr and its status, and the session survives set -e, exit and stdin readers', async () => {
  const s = new LocalShell().openSession(['sh']);
  try {
    assert.deepEqual(await s.run('echo out; echo err >&2; echo out2; exit 3'), { code: 3, stdout: 'out\nout2\n', stderr: 'err\n' });
    assert.deepEqual(await s.run('set -e\nfalse\necho never'), { code: 1, stdout: '', stderr: '' });
    assert.deepEqual(await s.run('cat; echo "read: $(cat)"'), { code: 0, stdout: 'read: \n', stderr: '' });
    assert.deepEqual(await s.run('x=1'), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await s.run('echo "x=${x-unset}"; printf "%s|%%|\\\\n\\n" a'), { code: 0, stdout: 'x=unset\na|%|\n\n', stderr: '' });
    assert.equal(s.alive, true);
    const bad = await s.run('if then');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Syntax error/);
    assert.equal(bad.stdout, '');
    assert.equal((await s.run('echo still')).stdout, 'still\n');
    // A lot on both streams at once: neither is lost, each stays in its own order.
    const many = await s.run('i=0; while [ $i -lt 2000 ]; do echo "o$i"; echo "e$i" >&2; i=$((i+1)); done');
    assert.equal(many.stdout.split('\n').length, 2001);
    assert.equal(many.stderr.split('\n')[1999], 'e1999');
  } finally {
    await s.close();
  }
  assert.equal(s.alive, false);
  await assert.rejects(s.run('true'), (e: unknown) => e instanceof SessionLostError && !e.started);
});

test('GIVEN any script text WHEN run through a real sh session THEN it is run exactly as written', async () => {
  const s = new LocalShell().openSession(['sh']);
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.string({
          unit: fc.constantFrom('a', ' ', '\n', '\\', '%', "'", '"', '$', '`', 'n', '0', '\t', '*', ';', '#', 'é'),
          maxLength: 40,
        }),
        async (text) => {
          const heredocFree = `cat <<'PVEK3SEOF'\n${text}\nPVEK3SEOF`;
          const r = await s.run(heredocFree);
          assert.deepEqual(r, { code: 0, stdout: `${text}\n`, stderr: '' });
        },
      ),
      { numRuns: 60 },
    );
  } finally {
    await s.close();
  }
});

test('GIVEN a session whose program cannot start, or that dies WHEN run THEN lost (not started / started) and a timeout stops it', async () => {
  const none = new LocalShell().openSession(['/nonexistent/pve-k3s-sh']);
  await assert.rejects(none.run('true'), (e: unknown) => e instanceof SessionLostError && !e.started);
  const dies = new LocalShell().openSession(['sh']);
  await assert.rejects(
    dies.run('echo bye; kill -9 $$'),
    (e: unknown) => e instanceof SessionLostError && e.started && /ended while a command ran/.test(e.message),
  );
  assert.equal(dies.alive, false);
  const slow = new LocalShell({ host: 'pve1' }).openSession(['sh']);
  await assert.rejects(
    slow.run('sleep 5', { timeoutMs: 100 }),
    (e: unknown) => e instanceof ShellError && e.timedOut && /timed out after 0\.1s on pve1/.test(e.message),
  );
  assert.equal(slow.alive, false);
  const ac = new AbortController();
  const aborted = new LocalShell().openSession(['sh']);
  const p = aborted.run('sleep 5', { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (e: unknown) => e instanceof ShellError && /aborted/.test(e.message));
});
