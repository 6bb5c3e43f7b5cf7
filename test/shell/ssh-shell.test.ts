/** SshShell against a fake `ssh` program: the command line it builds and how it reads ssh's exit. */
import { test, describe, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ShellError } from '../../src/domain/errors.js';
import { SshShell } from '../../src/shell/ssh-shell.js';
import { fixtureDir, splitNul } from './helpers/fixtures.js';

// Records each call's argv in call.*; answers from files: check-code (ssh -O), connect-*
// (the first `true` session), run-* (every other session).
const FAKE_SSH = `
d=$(dirname "$0")
f=$(mktemp "$d/call.XXXXXX"); printf '%s\\0' "$@" > "$f"
last=; for a; do last=$a; done
case " $* " in
  *" -O "*) exit "$(cat "$d/check-code")" ;;
esac
if [ "$last" = true ]; then p=connect; else p=run; fi
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

  beforeEach(() => {
    for (const n of readdirSync(fx.dir)) if (n !== 'ssh') rmSync(join(fx.dir, n));
    set('check-code', 255);
    set('connect-code', 0);
    set('run-code', 0);
  });
  after(() => {
    fx.remove();
    rmSync(controlDir, { recursive: true, force: true });
  });

  test('builds one ssh command line: multiplexed, batch mode, host keys left to ssh, argv quoted after --', async () => {
    const r = await make().run(['pct', 'exec', '101', '--', 'sh', '-c', "echo 'hi'"]);
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
      `ControlPath=${controlDir}/%C`,
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

  test('concurrent runs share one connect()', async () => {
    const s = make();
    await Promise.all([s.run(['a']), s.run(['b']), s.run(['c'])]);
    assert.equal(calls().filter((c) => c.at(-1) === 'true').length, 1);
  });

  test('a live master (ssh -O check) skips the first session', async () => {
    set('check-code', 0);
    await make().run(['a']);
    assert.equal(calls().filter((c) => c.at(-1) === 'true').length, 0);
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
    set('check-code', 0);
    set('run-code', 255);
    set('run-stderr', 'ssh: connect to host 10.9.9.9 port 22: Connection refused\n');
    assert.equal((await s.run(['pct', 'exec', '101', '--', 'ssh', 'x'])).code, 255);
  });

  test("exit 255 without ssh words -> the remote command's own result", async () => {
    const s = make();
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
