/**
 * SshShell against a REAL OpenSSH server on 127.0.0.1 (see harness/sshd.ts). Skipped locally
 * when sshd is missing; under CI (CI=true) a missing sshd fails instead.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ShellError } from '../../src/domain/errors.js';
import { SshShell, type SshShellOptions } from '../../src/shell/ssh-shell.js';
import { SessionLostError } from '../../src/shell/session.js';
import { splitNul } from '../shell/helpers/fixtures.js';
import { sshdSkipReason, startSshd, type SshdHarness } from './harness/sshd.js';

// A fake pct: prints its argv NUL-terminated on stdout and echoes stdin on stderr.
// `pct fail <code> <message>` prints the message on stderr and exits with <code>.
// `pct hold <file>` reads stdin, creates <file>, waits until it is removed, then prints stdin.
const FAKE_PCT = `#!/bin/sh
case "$1" in
  fail) printf '%s\\n' "$3" >&2; exit "$2" ;;
  hold)
    input=$(cat; echo x); input=\${input%x}
    : > "$2"
    while [ -e "$2" ]; do sleep 0.05; done
    printf '%s' "$input"; exit 0 ;;
esac
for a; do printf '%s\\0' "$a"; done
cat >&2
`;

const HOSTILE = [
  'two words',
  "it's",
  "'\\''",
  '"',
  '$(touch /tmp/pwned)',
  '`id`',
  '${HOME}',
  'a;b',
  'a && b',
  'a|b',
  'x\ny',
  '*',
  '~',
  '-n',
  '--',
  '',
  ' ',
  '\\',
  '!',
  '#c',
  '{a,b}',
  'ünïcödé 🚀',
  '\t',
  '<in',
  '>out',
  'k=v',
];

const skip = sshdSkipReason();

describe('SshShell over a real sshd', { skip: skip ?? false }, () => {
  let h: SshdHarness;
  const shells: SshShell[] = [];
  const dirs: string[] = [];

  /** A shell with its own control directory, so no test reuses another test's master. */
  function shell(extra: Partial<SshShellOptions> = {}): SshShell {
    const controlDir = mkdtempSync('/tmp/pk-');
    dirs.push(controlDir);
    const s = new SshShell({ host: 'pve1', destination: h.alias, configFile: h.configFile, controlDir, ...extra });
    shells.push(s);
    return s;
  }
  const acceptedLogins = (): number => (readFileSync(h.logFile, 'utf8').match(/Accepted publickey/g) ?? []).length;
  const sockets = (s: SshShell): string[] => readdirSync(s.controlDir);

  before(async () => {
    h = await startSshd();
    h.addProgram('pct', FAKE_PCT);
  });
  after(async () => {
    for (const s of shells) await s.stopMaster(); // persisted masters would otherwise outlive the test by 60 s
    for (const s of shells) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await h?.stop();
  });

  test('a session runs scripts one after another over one channel, secrets only on stdin, and reports its loss', async () => {
    const s = shell();
    const session = s.openSession(['sh', '-s']);
    try {
      const secret = 'K10secret::server:tok%en\\n';
      const a = await session.run(
        `set -e\nT=${"'"}${secret}${"'"}\nps -eo args | grep -c "secret::" || true\nprintf '%s\\n' "$T" >&2\nexit 4`,
      );
      // The token is in no command line (the grep counts its own line only when it has the text).
      assert.deepEqual(a, { code: 4, stdout: '1\n', stderr: `${secret}\n` });
      assert.deepEqual(await session.run('echo "$$" >/dev/null; echo two'), { code: 0, stdout: 'two\n', stderr: '' });
      assert.equal(acceptedLogins() > 0, true);
      await assert.rejects(session.run('kill -9 $$'), (e: unknown) => e instanceof SessionLostError && e.started);
    } finally {
      await session.close();
    }
    const down = new SshShell({ host: 'pve9', destination: 'nosuch.invalid', controlDir: mkdtempSync('/tmp/pk-'), connectTimeoutMs: 2000 });
    dirs.push(down.controlDir);
    await assert.rejects(
      down.openSession(['sh', '-s']).run('true'),
      (e: unknown) => e instanceof SessionLostError && !e.started && /pve9/.test(e.message),
    );
  });

  test('hostile arguments reach the remote program byte-identical', async () => {
    const argv = ['pct', 'exec', '101', '--', ...HOSTILE];
    const r = await shell().run(argv);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(splitNul(r.stdout), argv.slice(1));
    assert.equal(existsSync('/tmp/pwned'), false);
  });

  test('property: any argv survives the ssh hop', async () => {
    const s = shell();
    const arg = fc.string({ unit: 'binary', maxLength: 20 }).filter((x) => !x.includes('\0'));
    await fc.assert(
      fc.asyncProperty(fc.array(arg, { maxLength: 6 }), async (args) => {
        const r = await s.run(['pct', 'exec', '101', '--', ...args]);
        assert.deepEqual(splitNul(r.stdout), ['exec', '101', '--', ...args]);
      }),
      { numRuns: 15 },
    );
  });

  test('stdin passes through to the remote command, and a script runs with `sh -s`', async () => {
    const s = shell();
    const input = "line 1\nit's $(not run)\nno newline at end";
    assert.equal((await s.run(['pct', 'exec', '101', '--', 'cat'], { stdin: input })).stderr, input);
    assert.deepEqual(await s.run(['sh', '-s'], { stdin: 'echo "$((6 * 7))"\nexit 7\n' }), { code: 7, stdout: '42\n', stderr: '' });
  });

  test('a secret sent on stdin never appears in any process command line', async () => {
    const s = shell();
    const secret = `K10-secret-${process.pid}-${Date.now()}`;
    const ready = join(h.dir, 'hold-ready');
    const pending = s.run(['pct', 'hold', ready], { stdin: secret });
    for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(ready), 'the remote command never started');
    const seen: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmdline.includes('hold-ready')) seen.push(cmdline.replaceAll('\0', ' '));
        assert.ok(!cmdline.includes(secret), `secret visible in /proc/${pid}/cmdline: ${cmdline}`);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
      }
    }
    assert.ok(seen.length > 0, 'the scan must see the running command');
    rmSync(ready);
    assert.deepEqual(await pending, { code: 0, stdout: secret, stderr: '' });
  });

  test("a remote exit status of 255 (pct's own errors) is returned, not thrown", async () => {
    const s = shell();
    assert.deepEqual(await s.run(['pct', 'fail', '255', "container '101' not running!"]), {
      code: 255,
      stdout: '',
      stderr: "container '101' not running!\n",
    });
    // Even when the remote output looks like an ssh failure, a live master proves ssh worked.
    const r = await s.run(['pct', 'fail', '255', 'ssh: connect to host 10.0.0.9 port 22: Connection refused']);
    assert.equal(r.code, 255);
    assert.equal((await s.run(['pct', 'fail', '3', 'x'])).code, 3);
    assert.equal((await s.run(['no-such-program-pvek3s'])).code, 127);
  });

  test('one master connection serves every command', async (t) => {
    const s = shell();
    const before = acceptedLogins();
    const t0 = Date.now();
    await s.run(['pct', 'list']);
    const first = Date.now() - t0;
    const t1 = Date.now();
    await s.run(['pct', 'list']);
    const second = Date.now() - t1;
    await Promise.all([1, 2, 3, 4].map((n) => s.run(['pct', 'exec', String(n), '--', 'true'])));
    assert.equal(acceptedLogins() - before, 1, 'exactly one ssh login for six commands');
    assert.deepEqual(sockets(s).length, 1, 'one master socket');
    t.diagnostic(`first command ${first} ms (with connect), second ${second} ms`);
  });

  test('concurrent first commands share one connect()', async () => {
    const s = shell();
    const before = acceptedLogins();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => s.run(['pct', 'fail', String(n), ''])));
    assert.deepEqual(
      results.map((r) => r.code),
      [1, 2, 3, 4, 5],
    );
    assert.equal(acceptedLogins() - before, 1);
  });

  test('persist (the default): close() leaves the master up and the next command (a new SshShell) reuses it without a login', async () => {
    const first = shell();
    const before = acceptedLogins();
    assert.equal((await first.run(['pct', 'fail', '0', ''])).code, 0);
    await first.close();
    await first.close();
    assert.equal(sockets(first).length, 1, 'the master is still there');
    const next = new SshShell({ host: 'pve1', destination: h.alias, configFile: h.configFile, controlDir: first.controlDir });
    shells.push(next);
    assert.equal(next.controlPath, first.controlPath);
    assert.equal((await next.run(['pct', 'fail', '3', ''])).code, 3);
    const session = next.openSession(['sh', '-s']);
    try {
      assert.deepEqual(await session.run('echo via-master'), { code: 0, stdout: 'via-master\n', stderr: '' });
    } finally {
      await session.close();
    }
    assert.equal(acceptedLogins() - before, 1, 'one login for both commands');
  });

  test('persist: false: close() stops the master this shell started and removes its socket; safe twice; run() reconnects after', async () => {
    const s = shell({ persist: false });
    const before = acceptedLogins();
    assert.equal((await s.run(['pct', 'fail', '0', ''])).code, 0);
    assert.equal(sockets(s).length, 1);
    await s.close();
    await s.close();
    for (let i = 0; i < 40 && sockets(s).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(sockets(s), []);
    assert.equal((await s.run(['pct', 'fail', '0', ''])).code, 0);
    assert.equal(acceptedLogins() - before, 2, 'a new login after the master was stopped');
  });

  test('a stale socket (its master was killed) is replaced: one new login, the requests answered', async () => {
    const s = shell();
    await s.run(['pct', 'fail', '0', '']);
    const check = spawnSync('ssh', ['-F', h.configFile, '-o', `ControlPath=${s.controlPath}`, '-O', 'check', h.alias], {
      encoding: 'utf8',
    });
    const pid = Number(/pid=(\d+)/.exec(check.stderr)?.[1]);
    assert.ok(pid > 0, check.stderr);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 40; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 25));
      } catch {
        break;
      }
    }
    assert.equal(sockets(s).length, 1, 'the dead master left its socket');
    const next = new SshShell({ host: 'pve1', destination: h.alias, configFile: h.configFile, controlDir: s.controlDir });
    shells.push(next);
    const before = acceptedLogins();
    const codes = await Promise.all([1, 2, 3].map((n) => next.run(['pct', 'fail', String(n), ''])));
    assert.deepEqual(
      codes.map((r) => r.code),
      [1, 2, 3],
    );
    assert.equal(acceptedLogins() - before, 1);
  });

  test('timeoutMs stops a remote command and throws ShellError{timedOut}', async () => {
    const s = shell();
    const ready = join(h.dir, 'hold-timeout');
    try {
      await assert.rejects(s.run(['pct', 'hold', ready], { stdin: 'x', timeoutMs: 700 }), (e: unknown) => {
        assert.ok(e instanceof ShellError);
        assert.equal(e.timedOut, true);
        assert.equal(e.unreachable, false);
        assert.equal(e.message, `command timed out after 0.7s on pve1: pct hold ${ready}`);
        assert.equal(e.hint, 'the remote command may still be running on the host until it ends or writes output');
        return true;
      });
    } finally {
      rmSync(ready, { force: true });
    }
  });

  test('an unreachable port throws ShellError{unreachable} naming host and destination', async () => {
    const closed = await closedPort();
    const s = shell({ host: 'pve9', extraOptions: ['-p', String(closed)] });
    await assert.rejects(s.run(['pct', 'list']), (e: unknown) => {
      assert.ok(e instanceof ShellError);
      assert.equal(e.unreachable, true);
      assert.equal(e.host, 'pve9');
      assert.equal(e.message, 'cannot reach Proxmox host pve9 (pve-e2e): connection refused');
      assert.equal(e.hint, 'check the host is up and reachable: `ssh pve-e2e true`');
      assert.match(e.detail ?? '', /Connection refused/);
      return true;
    });
  });

  test('a wrong host key in known_hosts throws ShellError{unreachable} with the host-key hint', async () => {
    const badKnownHosts = join(h.dir, 'known_hosts.bad');
    writeFileSync(badKnownHosts, `[127.0.0.1]:${h.port} ${h.newKeyPub('impostor_key')}\n`);
    const s = shell({ extraOptions: ['-o', `UserKnownHostsFile=${badKnownHosts}`] });
    await assert.rejects(s.run(['pct', 'list']), (e: unknown) => {
      assert.ok(e instanceof ShellError);
      assert.equal(e.unreachable, true);
      assert.equal(e.message, 'cannot reach Proxmox host pve1 (pve-e2e): host key verification failed');
      assert.equal(e.hint, 'connect once with `ssh pve-e2e` and verify the key');
      return true;
    });
  });

  test('a rejected key throws ShellError{unreachable} with the ssh-agent hint', async () => {
    const s = shell({ extraOptions: ['-l', 'pve-k3s-no-such-user'] });
    await assert.rejects(s.connect(), (e: unknown) => {
      assert.ok(e instanceof ShellError);
      assert.equal(e.unreachable, true);
      assert.equal(e.message, 'cannot reach Proxmox host pve1 (pve-e2e): authentication failed');
      assert.equal(e.hint, 'check that your key is loaded in ssh-agent or set IdentityFile for pve-e2e in ~/.ssh/config');
      return true;
    });
  });

  test('the master uses a private 0700 control directory', async () => {
    const s = shell();
    await s.connect();
    const mode = spawnSync('stat', ['-c', '%a', s.controlDir], { encoding: 'utf8' }).stdout.trim();
    assert.equal(mode, '700');
  });
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 1));
    });
  });
}
