/** SshShell against a fake `ssh` program: the command line it builds and how it reads ssh's exit. */
import { test, describe, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ShellError } from '../../src/domain/errors.js';
import { SshShell } from '../../src/shell/ssh-shell.js';
import { fixtureDir, splitNul } from './helpers/fixtures.js';

// Records each call's argv in call.*; answers from files: check-code (ssh -O), connect-*
// (a `true` session), run-* (every other session); *-sleep seconds before answering.
// It never creates a control socket: tests that need a live master listen on the path themselves.
const FAKE_SSH = `
d=$(dirname "$0")
f=$(mktemp "$d/call.XXXXXX"); printf '%s\\0' "$@" > "$f"
last=; for a; do last=$a; done
case " $* " in
  *" -O "*) exit "$(cat "$d/check-code")" ;;
esac
if [ "$last" = true ]; then p=connect; else p=run; fi
[ -e "$d/$p-sleep" ] && sleep "$(cat "$d/$p-sleep")"
cat "$d/$p-stderr" >&2 2>/dev/null
printf 'remote-out'
exit "$(cat "$d/$p-code")"
`;

describe('SshShell (fake ssh)', () => {
  const fx = fixtureDir('pve-k3s-fakessh-');
  const ssh = fx.add('ssh', FAKE_SSH);
  const controlDir = mkdtempSync('/tmp/pk-u-');
  const set = (name: string, value: string | number): void => writeFileSync(join(fx.dir, name), String(value));
  const calls = (): string[][] =>
    readdirSync(fx.dir)
      .filter((n) => n.startsWith('call.'))
      .map((n) => splitNul(readFileSync(join(fx.dir, n), 'utf8')));
  const make = (): SshShell =>
    new SshShell({
      host: 'pve1',
      destination: 'root@10.0.0.1',
      configFile: '/etc/pve-k3s/ssh_config',
      controlDir,
      sshPath: ssh,
      extraOptions: ['-p', '2222'],
    });

  /** A listening unix socket at the shell's control path: a live master, as far as SshShell can tell. */
  const servers: Server[] = [];
  const liveMaster = (s: SshShell): Promise<void> =>
    new Promise((resolve) => {
      const srv = createServer((c) => c.destroy()).listen(s.controlPath, () => resolve());
      servers.push(srv);
    });

  beforeEach(async () => {
    for (const srv of servers.splice(0)) await new Promise((r) => srv.close(r));
    for (const n of readdirSync(controlDir)) rmSync(join(controlDir, n), { force: true });
    for (const n of readdirSync(fx.dir)) if (n !== 'ssh') rmSync(join(fx.dir, n));
    set('check-code', 255);
    set('connect-code', 0);
    set('run-code', 0);
  });
  after(async () => {
    for (const srv of servers.splice(0)) await new Promise((r) => srv.close(r));
    fx.remove();
    rmSync(controlDir, { recursive: true, force: true });
  });

  test('builds one ssh command line: multiplexed, batch mode, host keys left to ssh, argv quoted after --', async () => {
    const s = make();
    const r = await s.run(['pct', 'exec', '101', '--', 'sh', '-c', "echo 'hi'"]);
    assert.deepEqual(r, { code: 0, stdout: 'remote-out', stderr: '' });
    const session = calls().find((c) => c.at(-1)?.startsWith('pct'));
    assert.deepEqual(session, [
      '-F',
      '/etc/pve-k3s/ssh_config',
      '-o',
      'BatchMode=yes',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${s.controlPath}`,
      '-o',
      'ControlPersist=60s',
      '-p',
      '2222',
      '-T',
      'root@10.0.0.1',
      '--',
      `pct exec 101 -- sh -c 'echo '\\''hi'\\'''`,
    ]);
    assert.ok(
      !calls()
        .flat()
        .some((a) => /StrictHostKeyChecking/i.test(a)),
    );
  });

  test('the first request opens the master itself: no `true` session, no `ssh -O check`', async () => {
    const s = make();
    await Promise.all([s.run(['a']), s.run(['b']), s.run(['c'])]);
    assert.deepEqual(
      calls()
        .map((c) => c.at(-1))
        .sort(),
      ['a', 'b', 'c'],
    );
    assert.match(s.controlPath, new RegExp(`^${controlDir}/[0-9a-f]{40}$`));
  });

  test('a master left by an earlier command (a live socket) is used as it is', async () => {
    const s = make();
    await liveMaster(s);
    assert.equal((await s.run(['a'])).code, 0);
    await s.close();
    assert.deepEqual(
      calls().map((c) => c.slice(-4)),
      [['-T', 'root@10.0.0.1', '--', 'a']],
      'one call: the request; close() leaves a persisted master alone',
    );
  });

  test('a stale socket (its master died) is removed before the first request', async () => {
    const s = make();
    writeFileSync(s.controlPath, ''); // connect() to it is refused, as to a dead master's socket
    assert.equal((await s.run(['a'])).code, 0);
    assert.equal(existsSync(s.controlPath), false);
  });

  test('a first request still waiting for its connection after connectTimeoutMs -> ShellError{unreachable, timedOut}', async () => {
    set('run-sleep', 5);
    const s = new SshShell({ host: 'pve1', destination: 'root@10.0.0.1', controlDir, sshPath: ssh, connectTimeoutMs: 200 });
    await assert.rejects(s.run(['pct', 'list']), {
      name: 'ShellError',
      unreachable: true,
      timedOut: true,
      message: 'cannot reach Proxmox host pve1 (root@10.0.0.1): no answer within 0.2s',
    });
  });

  test('persist: false -> close() stops a master this shell started (ssh -O exit), never one it found', async () => {
    const found = new SshShell({ host: 'pve1', destination: 'root@10.0.0.1', controlDir, sshPath: ssh, persist: false });
    await liveMaster(found);
    await found.run(['a']);
    await found.close();
    assert.equal(calls().filter((c) => c.includes('-O')).length, 0);
  });

  test('exit 255 with ssh words while the master is dead -> ShellError{unreachable}', async () => {
    const s = make();
    await s.connect();
    set('run-code', 255);
    set('run-stderr', 'Connection to 10.0.0.1 closed by remote host.\n');
    await assert.rejects(s.run(['pct', 'list']), (e: unknown) => {
      assert.ok(e instanceof ShellError);
      assert.equal(e.unreachable, true);
      assert.equal(e.message, 'cannot reach Proxmox host pve1 (root@10.0.0.1): connection closed by the remote host');
      assert.equal(e.detail, 'Connection to 10.0.0.1 closed by remote host.');
      return true;
    });
  });

  test("exit 255 with ssh words while the master lives -> the remote command's own result", async () => {
    const s = make();
    await s.connect();
    await liveMaster(s);
    set('run-code', 255);
    set('run-stderr', 'ssh: connect to host 10.9.9.9 port 22: Connection refused\n');
    assert.equal((await s.run(['pct', 'exec', '101', '--', 'ssh', 'x'])).code, 255);
  });

  test("exit 255 without ssh words -> the remote command's own result", async () => {
    const s = make();
    await s.connect();
    set('run-code', 255);
    set('run-stderr', "container '101' not running!\n");
    assert.deepEqual(await s.run(['pct', 'exec', '101', '--', 'true']), {
      code: 255,
      stdout: 'remote-out',
      stderr: "container '101' not running!\n",
    });
  });

  test("an unrecognised ssh failure on connect still throws, quoting ssh's last line", async () => {
    set('connect-code', 255);
    set('connect-stderr', 'debug noise\nsomething new went wrong\n');
    await assert.rejects(make().connect(), {
      name: 'ShellError',
      unreachable: true,
      message: 'cannot reach Proxmox host pve1 (root@10.0.0.1): ssh failed: something new went wrong',
    });
  });

  test("a first request ending 255 without a master -> ShellError{unreachable} quoting ssh's last line; the next request tries again", async () => {
    const s = make();
    set('run-code', 255);
    set('run-stderr', 'debug noise\nsomething new went wrong\n');
    await assert.rejects(s.run(['pct', 'list']), {
      name: 'ShellError',
      unreachable: true,
      message: 'cannot reach Proxmox host pve1 (root@10.0.0.1): ssh failed: something new went wrong',
    });
    set('run-code', 0);
    assert.equal((await s.run(['pct', 'list'])).code, 0);
  });

  test('a failed connect() is retried by the next call', async () => {
    const s = make();
    set('connect-code', 255);
    set('connect-stderr', 'ssh: connect to host 10.0.0.1 port 2222: Connection refused\n');
    await assert.rejects(s.connect(), { unreachable: true });
    set('connect-code', 0);
    await s.connect();
  });

  test('a remote shell that cannot run `true` is a ShellError, not unreachable', async () => {
    set('connect-code', 1);
    await assert.rejects(make().connect(), { name: 'ShellError', unreachable: false, exitStatus: 1 });
  });

  test('a missing ssh client says so', async () => {
    const s = new SshShell({ host: 'pve1', destination: 'pve1', controlDir, sshPath: join(fx.dir, 'no-ssh-here') });
    await assert.rejects(s.run(['true']), { message: 'cannot reach Proxmox host pve1: the ssh client is not installed' });
  });

  test('a destination that ssh would read as an option is refused', () => {
    assert.throws(() => new SshShell({ host: 'pve1', destination: '-oProxyCommand=x' }), TypeError);
  });
});
