import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatch, buildNestedBatch, nestedResults, parseBatch, widths } from '../../src/proxmox/batch.js';

/** A fake `pct` on PATH: prints its argv one per line, a stderr line, exits with the vmid % 7. */
function fakePct(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-batch-'));
  const pct = join(dir, 'pct');
  writeFileSync(
    pct,
    '#!/bin/sh\nfor a in "$@"; do printf "[%s]\\n" "$a"; done\necho "to stderr" >&2\nprintf "no newline at end"\nexit $(( ${2:-0} % 7 ))\n',
  );
  chmodSync(pct, 0o755);
  return dir;
}

test('GIVEN a batch of hostile argvs WHEN run by a real /bin/sh THEN each result has its own output and exit status', () => {
  const dir = fakePct();
  const argvs = [
    ['pct', 'exec', '101', '--', '/usr/local/bin/k3s', '--version'],
    ['pct', 'exec', '103', '--', 'sh', '-c', 'echo \'$(rm -rf /)\'; `id` "q" \\ ;'],
    ['pct', 'list'],
  ];
  const batch = buildBatch(argvs.map((argv) => ({ argv })));
  const r = spawnSync('/bin/sh', ['-s'], { input: batch.script, env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
  assert.equal(r.status, 0);
  const results = parseBatch(r, batch);
  assert.equal(results.length, 3);
  assert.equal(results[0]!.code, 101 % 7);
  assert.equal(results[0]!.stdout, '[exec]\n[101]\n[--]\n[/usr/local/bin/k3s]\n[--version]\nno newline at end');
  assert.equal(results[0]!.stderr, 'to stderr\n');
  assert.equal(results[1]!.code, 103 % 7);
  assert.ok(results[1]!.stdout.includes('[echo \'$(rm -rf /)\'; `id` "q" \\ ;]'), results[1]!.stdout);
  assert.equal(results[2]!.code, 0);
});

test('GIVEN output that ends with a newline WHEN parsed THEN it is kept byte for byte, on each stream', () => {
  const batch = buildBatch([{ argv: ['true'] }], 'abc');
  const stdout = 'banner\n@@pve-k3s:abc begin 0\nline1\nline2\n\n@@pve-k3s:abc end 0 0\n';
  const stderr = 'Warning: ssh said this\n@@pve-k3s:abc begin 0\nwarn\n\n\n@@pve-k3s:abc end 0 0\n';
  assert.deepEqual(parseBatch({ stdout, stderr }, batch)[0], { code: 0, stdout: 'line1\nline2\n', stderr: 'warn\n\n' });
  const empty = '@@pve-k3s:abc begin 0\n\n@@pve-k3s:abc end 0 4\n';
  assert.deepEqual(parseBatch({ stdout: empty, stderr: empty }, batch)[0], { code: 4, stdout: '', stderr: '' });
});

test('GIVEN a script that died midway WHEN parsed THEN the missing results say so with code -1 and what the stream said outside the frames', () => {
  const batch = buildBatch([{ argv: ['a'] }, { argv: ['b'] }], 'n1');
  const results = parseBatch(
    {
      stdout: '@@pve-k3s:n1 begin 0\nx\n\n@@pve-k3s:n1 end 0 3\n@@pve-k3s:n1 begin 1\npartial',
      stderr: '@@pve-k3s:n1 begin 0\nwhy\n@@pve-k3s:n1 end 0 3\n@@pve-k3s:n1 begin 1\nKilled\n',
    },
    batch,
  );
  assert.deepEqual(results[0], { code: 3, stdout: 'x\n', stderr: 'why' });
  assert.equal(results[1]!.code, -1);
  assert.equal(results[1]!.stderr, 'no result: the batch script stopped before this command: Killed');
  const none = parseBatch({ stdout: '', stderr: "container '101' not running!\n" }, batch);
  assert.deepEqual(none[0], {
    code: -1,
    stdout: '',
    stderr: "no result: the batch script stopped before this command: container '101' not running!",
  });
});

test('GIVEN output that imitates the marker with another nonce or id WHEN parsed THEN it is plain output', () => {
  const batch = buildBatch([{ argv: ['a'] }], 'real');
  const text = '@@pve-k3s:real begin 0\n@@pve-k3s:fake end 0 9\n@@pve-k3s:real end 1 9\n\n@@pve-k3s:real end 0 0\n';
  const results = parseBatch({ stdout: text, stderr: '' }, batch);
  assert.deepEqual(results[0], { code: 0, stdout: '@@pve-k3s:fake end 0 9\n@@pve-k3s:real end 1 9\n', stderr: '' });
});

test('GIVEN a sequential batch with stopOnFailure WHEN a command fails THEN the rest do not run and the failure keeps its stderr', () => {
  const batch = buildBatch([{ argv: ['sh', '-c', 'echo out; echo "the reason" >&2; exit 3'] }, { argv: ['echo', 'never'] }], {
    stopOnFailure: true,
    nonce: 'st',
  });
  const r = spawnSync('/bin/sh', ['-s'], { input: batch.script, encoding: 'utf8' });
  assert.equal(r.status, 3);
  const [a, b] = parseBatch(r, batch);
  assert.deepEqual(a, { code: 3, stdout: 'out\n', stderr: 'the reason\n' });
  assert.equal(b!.code, -1);
});

test('GIVEN a parallel batch WHEN run by a real /bin/sh THEN results come back in order with their own status, and the work dir is removed', () => {
  const dir = fakePct();
  const argvs = Array.from({ length: 11 }, (_, i) => ['pct', 'exec', String(100 + i), '--', 'it\'s "quoted"', '$(x)']);
  const batch = buildBatch(
    argvs.map((argv) => ({ argv })),
    { parallel: 4, nonce: 'par' },
  );
  assert.match(batch.script, /^mkdir -m 700 "\$d" \|\| exit 1$/m);
  const r = spawnSync('/bin/sh', ['-s'], { input: batch.script, env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const results = parseBatch(r, batch);
  results.forEach((res, i) => {
    assert.equal(res.code, (100 + i) % 7);
    assert.equal(res.stdout, `[exec]\n[${100 + i}]\n[--]\n[it's "quoted"]\n[$(x)]\nno newline at end`);
    assert.equal(res.stderr, 'to stderr\n');
  });
  assert.equal(spawnSync('/bin/sh', ['-c', 'ls -d /tmp/pve-k3s-batch-par 2>/dev/null']).stdout.length, 0);
});

test('a widened batch doubles its width while below the count, up to every command and at most 64', () => {
  assert.deepEqual(widths(19, { parallel: 8, widen: true }), [8, 16, 19]);
  assert.deepEqual(widths(5, { parallel: 8, widen: true }), [5]);
  assert.deepEqual(widths(200, { parallel: 8, widen: true }), [8, 16, 32, 64]);
  assert.deepEqual(widths(19, { parallel: 8, widen: false }), [8]);
});

/**
 * Each command waits, bounded, until `n` of them have started (a barrier): it exits 0 only if
 * n ran at the same time, 9 if it gave up.
 */
function barrier(dir: string, n: number, count: number) {
  const wait = `touch "${dir}/$0"; t=0; until [ "$(ls "${dir}" | wc -l)" -ge ${n} ]; do t=$((t + 1)); [ "$t" -gt 300 ] && exit 9; sleep 0.01; done`;
  return Array.from({ length: count }, (_, i) => ({ argv: ['sh', '-c', wait, `c${i}`] }));
}

/** A PATH whose nproc says `cores`. */
function withCores(cores: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-nproc-'));
  writeFileSync(join(dir, 'nproc'), `#!/bin/sh\necho ${cores}\n`);
  chmodSync(join(dir, 'nproc'), 0o755);
  return `${dir}:/usr/bin:/bin`;
}

test('GIVEN a host with more cores than commands WHEN a widened batch runs THEN every command runs at once, results in order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-barrier-'));
  const batch = buildBatch(barrier(dir, 19, 19), { parallel: 8, widen: true, nonce: 'wide' });
  const r = spawnSync('/bin/sh', ['-s'], { input: batch.script, env: { PATH: withCores(32) }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    parseBatch(r, batch).map((x) => x.code),
    Array.from({ length: 19 }, () => 0),
  );
});

test('GIVEN a host with 2 cores WHEN a widened batch of 19 runs THEN 8 lanes: the first 8 meet, every command runs once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-barrier-'));
  const batch = buildBatch(barrier(dir, 8, 19), { parallel: 8, widen: true, nonce: 'narrow' });
  const r = spawnSync('/bin/sh', ['-s'], { input: batch.script, env: { PATH: withCores(2) }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    parseBatch(r, batch).map((x) => x.code),
    Array.from({ length: 19 }, () => 0),
  );
  assert.match(
    batch.script,
    /^\[ "\$w" = 8 \] && \( sh -c "\$j0" sh "\$d\/0"; sh -c "\$j8" sh "\$d\/8"; sh -c "\$j16" sh "\$d\/16" \) &$/m,
  );
});

/**
 * A fake `pct exec <vmid> -- cmd...` that runs cmd as pct does (vmid 999: not running, pct's own
 * exit 255), and `sh` as the given shell (the host's and the container's: dash on Debian).
 */
function execPct(shell: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-nested-'));
  writeFileSync(join(dir, 'sh'), `#!/bin/sh\nexec ${shell.join(' ')} "$@"\n`);
  chmodSync(join(dir, 'sh'), 0o755);
  writeFileSync(
    join(dir, 'pct'),
    '#!/bin/sh\n[ "$1" = exec ] || exit 2\n[ "$2" = 999 ] && { echo "CT 999 not running" >&2; exit 255; }\nshift 3\nexec "$@"\n',
  );
  writeFileSync(
    join(dir, 'kubectl'),
    '#!/bin/sh\n[ "$2" = lease ] && { echo "Error from server (Forbidden): no" >&2; exit 1; }\nprintf \'{"items":[%s]}\' "$*"; echo warn >&2\n',
  );
  chmodSync(join(dir, 'pct'), 0o755);
  chmodSync(join(dir, 'kubectl'), 0o755);
  return dir;
}

for (const shell of [['dash'], ['busybox', 'sh']]) {
  test(`GIVEN the controller's reads nested in one pct exec WHEN run by ${shell.join(' ')} (host and container) THEN each read gets its own answer`, () => {
    const dir = execPct(shell);
    const reads = [
      ['get', 'nodes', '-o', 'json'],
      ['get', 'lease', 'x'],
      ['get', 'node', "it's $(x)"],
    ].map((a) => ({ argv: [join(dir, 'kubectl'), ...a] }));
    const ok = buildNestedBatch(['pct', 'exec', '100', '--'], reads);
    const stopped = buildNestedBatch(['pct', 'exec', '999', '--'], reads);
    const batch = buildBatch([{ argv: ['pct', 'list'] }, { argv: ok.argv }, { argv: stopped.argv }], { parallel: 8, widen: true });
    const r = spawnSync(shell[0]!, [...shell.slice(1), '-s'], {
      input: batch.script,
      env: { PATH: `${dir}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const [, outer, refused] = parseBatch(r, batch);
    assert.deepEqual(nestedResults(outer!, ok), [
      { code: 0, stdout: '{"items":[get nodes -o json]}', stderr: 'warn\n' },
      { code: 1, stdout: '', stderr: 'Error from server (Forbidden): no\n' },
      { code: 0, stdout: `{"items":[get node it's $(x)]}`, stderr: 'warn\n' },
    ]);
    // pct refused before any read ran: every read says so, in pct's words and exit status.
    const no = { code: 255, stdout: '', stderr: 'CT 999 not running\n' };
    assert.deepEqual(nestedResults(refused!, stopped), [no, no, no]);
  });
}

test('GIVEN a nested batch whose command exited 0 without running it WHEN split THEN no made-up success: code 1, its words', () => {
  const nested = buildNestedBatch(['pct', 'exec', '100', '--'], [{ argv: ['true'] }, { argv: ['true'] }]);
  const none = { code: 1, stdout: 'odd', stderr: 'said nothing framed' };
  assert.deepEqual(nestedResults({ code: 0, stdout: 'odd', stderr: 'said nothing framed' }, nested), [none, none]);
});
