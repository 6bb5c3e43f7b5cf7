/**
 * Two operators over a real sshd: operator A (its own HOME and state directory) runs an upgrade
 * over two OpenSSH servers on 127.0.0.1 whose `pct` forwards to the embedded lab; operator B
 * (another HOME and state directory: another machine) sees A's step in flight in `status`, is
 * refused by `restore`, and once A is killed (SIGKILL) and its lease has expired, finishes the
 * run with `resume`.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labBreak } from '../../src/lab/index.js';
import { SshShell } from '../../src/shell/ssh-shell.js';
import { INSTALL_SCRIPT_PATH } from '../../src/k3s/install-config.js';
import { Journal, journalPath } from '../../src/operation/journal.js';
import { sshdSkipReason, startSshd, type SshdHarness } from './harness/sshd.js';
import { startLabShims, type LabShims } from './harness/lab-shim.js';
import { labFixture, runCli, type LabFixture } from '../helpers/lab-cli.js';
import { repoRoot } from '../helpers/fixtures.js';

const skip = sshdSkipReason();
const LEASE = 3; // seconds: B waits this long (real time) after A is killed

describe('two operators over a real sshd', { skip: skip ?? false }, () => {
  let f: LabFixture;
  const sshds: SshdHarness[] = [];
  let shims: LabShims | undefined;
  const envOf = (who: string): NodeJS.ProcessEnv => {
    const home = join(f.dir, `home-${who}`);
    mkdirSync(home, { recursive: true });
    return {
      ...f.env,
      HOME: home,
      USER: who,
      XDG_STATE_HOME: join(home, '.local', 'state'),
      XDG_CONFIG_HOME: join(home, '.config'),
      PVE_K3S_LEASE_DURATION: String(LEASE),
    };
  };

  before(async () => {
    f = await labFixture({ hosts: 2, workers: 2 });
    for (const host of ['pve1', 'pve2']) {
      sshds.push(await startSshd({ alias: `${host}-ops` }));
    }
    // pct and pvesh of each host: the lab's, as installShims() writes them, served by one daemon.
    shims = await startLabShims(f.lab, { pve1: sshds[0]!.binDir, pve2: sshds[1]!.binDir });
    writeFileSync(
      f.inventory,
      [
        'cluster: lab',
        'hosts:',
        `  pve1: { ssh: ${sshds[0]!.alias}, sshConfig: ${sshds[0]!.configFile} }`,
        `  pve2: { ssh: ${sshds[1]!.alias}, sshConfig: ${sshds[1]!.configFile} }`,
        'nodes:',
        '  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }',
        '  k3s-worker-1: { vmid: 101, host: pve1, role: agent }',
        '  k3s-worker-2: { vmid: 102, host: pve2, role: agent }',
        'k3s:',
        '  channelUrl: lab',
        'lab:',
        `  dir: ${f.lab.dir}`,
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    for (const h of sshds) await new SshShell({ host: h.alias, destination: h.alias, configFile: h.configFile }).stopMaster();
    for (const h of sshds) await h.stop();
    await shims?.stop();
    f?.cleanup();
  });

  test('GIVEN operator A upgrading WHEN operator B runs status and restore THEN B sees the step in flight and is refused; after A is killed and its lease expired THEN B finishes the run with resume', async () => {
    const a = envOf('alice');
    const b = envOf('bob');
    const cli = (env: NodeJS.ProcessEnv, args: string[]) => runCli(args, { cwd: f.dir, env, timeoutMs: 120_000 });
    // B has a backup to restore (online: it only reads).
    f.lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'sqlite3' }));
    const made = await cli(b, ['backup']);
    assert.equal(made.code, 0, made.stderr);
    const root = join(b['XDG_STATE_HOME']!, 'pve-k3s', 'backups', 'lab');
    const [backup] = readdirSync(root).filter((n) => n.startsWith('lab-'));
    // A's install on worker-2 hangs (until A is killed); the lab's clock is held so it waits in real time.
    f.lab.addFault({ match: { vmid: 102, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] }, effect: { delayMs: 120_000 } });
    const release = f.lab.clock.hold();
    const bin = join(repoRoot(), 'dist', 'src', 'cli', 'bin.js');
    const child = spawn(process.execPath, [bin, 'upgrade', '--yes'], { cwd: f.dir, env: a, stdio: ['ignore', 'pipe', 'pipe'] });
    let aOut = '';
    child.stdout.on('data', (d: Buffer) => (aOut += d.toString()));
    child.stderr.on('data', (d: Buffer) => (aOut += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_c, sig) => r(sig)));
    let killed = false;
    try {
      const aJournal = new Journal(journalPath(join(a['XDG_STATE_HOME']!, 'pve-k3s'), 'lab'));
      const until = Date.now() + 90_000;
      while (!aJournal.read().some((r) => r.type === 'step-start' && r.step === '1/k3s-worker-2/install')) {
        assert.ok(Date.now() < until, `A never reached worker-2's install: ${aOut}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // B sees A's step in flight.
      const st = await cli(b, ['status']);
      assert.match(
        st.stdout,
        /^upgrade in progress: step \d+\/\d+ k3s-worker-2 install, by alice@\S+ since \d\d:\d\d/m,
        st.stdout + st.stderr,
      );
      // B's restore is refused, naming it.
      const rs = await cli(b, ['restore', join(root, backup!), '--yes']);
      assert.equal(rs.code, 1, rs.stdout + rs.stderr);
      assert.match(
        rs.stderr,
        /^error: cannot restore lab: upgrade in progress: step \d+\/\d+ k3s-worker-2 install, by alice@\S+ since \d\d:\d\d$/m,
      );
      // A dies the hard way.
      child.kill('SIGKILL');
      killed = true;
      assert.equal(await exited, 'SIGKILL');
    } finally {
      if (!killed) child.kill('SIGKILL');
      release();
    }
    // Once A's lease has expired (A renewed it until it died), B takes the run over and finishes it.
    await new Promise((r) => setTimeout(r, (LEASE + 1) * 1000));
    const done = await cli(b, ['resume', '--yes']);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /^Upgrade complete: lab now at v1\.33\.5\+k3s1 \(resumed run \S+\)\.$/m);
    assert.match(`${done.stdout}${done.stderr}`, /taking over from run \S+ \(upgrade by alice@\S+; its lease expired at \d\d:\d\d:\d\d\)/);
    assert.deepEqual(
      f.lab
        .summary()
        .filter((n) => n.role)
        .map((n) => [n.name, n.kubelet, n.schedulable]),
      [
        ['k3s-ctrl-1', 'v1.33.5+k3s1', true],
        ['k3s-worker-1', 'v1.33.5+k3s1', true],
        ['k3s-worker-2', 'v1.33.5+k3s1', true],
      ],
    );
    const after = await cli(b, ['status']);
    assert.equal(after.code, 0, after.stderr);
    assert.doesNotMatch(after.stdout, /in progress/);
  });
});
