import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSshd, isCi, sshdSkipReason, startSshd } from './harness/sshd.js';
import { realShSkipReason, startRealShHosts, type RealShHosts } from './harness/realsh.js';
import { startLabShims, type LabShims } from './harness/lab-shim.js';
import { setPctCost, wrapPct } from './harness/pct-cost.js';
import type { Lab } from '../../src/lab/index.js';
import { labFixture, type LabFixture } from '../helpers/lab-cli.js';

test('without sshd the e2e tests are skipped locally with a clear reason', () => {
  assert.equal(
    sshdSkipReason({}, { sshd: false, client: true }),
    'OpenSSH server (sshd) is not installed: `apt-get install openssh-server` to run the e2e tests',
  );
  assert.match(sshdSkipReason({ CI: 'false' }, { sshd: true, client: false }) ?? '', /openssh-client/);
  assert.equal(sshdSkipReason({}, { sshd: true, client: true }), undefined);
});

test('under CI the e2e tests are never skipped: a missing sshd must fail them', async () => {
  assert.equal(isCi({ CI: 'true' }), true);
  assert.equal(isCi({ CI: '0' }), false);
  assert.equal(sshdSkipReason({ CI: 'true' }, { sshd: false, client: false }), undefined);
  assert.equal(findSshd({ PVE_K3S_SSHD: '/nonexistent/sshd' }), undefined);
  const saved = process.env.PVE_K3S_SSHD;
  process.env.PVE_K3S_SSHD = '/nonexistent/sshd';
  try {
    await assert.rejects(startSshd(), /sshd not found \(looked in \/nonexistent\/sshd\): install openssh-server/);
  } finally {
    if (saved === undefined) delete process.env.PVE_K3S_SSHD;
    else process.env.PVE_K3S_SSHD = saved;
  }
});

test('without bwrap, dash or busybox the real-sh e2e tests are skipped locally, naming the package', () => {
  const none = () => false;
  const all = () => true;
  assert.equal(
    realShSkipReason({}, (p) => p !== 'bwrap', all),
    'bwrap is not installed: `apt-get install bubblewrap` to run the real-sh e2e tests',
  );
  assert.match(realShSkipReason({}, (p) => p !== 'busybox', all) ?? '', /apt-get install busybox/);
  assert.match(realShSkipReason({}, all, none) ?? '', /^bubblewrap cannot create a mount namespace here/);
  assert.equal(realShSkipReason({}, all, all), undefined);
});

test('under CI the real-sh e2e tests are never skipped: a missing bwrap must fail them', async () => {
  assert.equal(
    realShSkipReason(
      { CI: 'true' },
      () => false,
      () => false,
    ),
    undefined,
  );
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(startRealShHosts({} as Lab, 'dash'), /^Error: bwrap not found: install bubblewrap/);
  } finally {
    process.env.PATH = saved;
  }
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a harness program; `started` sees the child (to kill it). */
function run(
  file: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; input?: string; started?: (c: ChildProcess) => void } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.input ?? '');
    o.started?.(child);
  });
}

const until = async (what: string, ok: () => boolean): Promise<void> => {
  const deadline = Date.now() + 30_000;
  while (!ok()) {
    assert.ok(Date.now() < deadline, `never: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the lab shims served by the harness daemon', { skip: sshdSkipReason() ?? false }, () => {
  let f: LabFixture;
  let shims: LabShims;
  let pct: string;
  before(async () => {
    f = await labFixture({ hosts: 1, workers: 1, clock: 'real' });
    const bin = join(f.dir, 'bin');
    mkdirSync(bin);
    shims = await startLabShims(f.lab, { pve1: bin });
    pct = join(bin, 'pct');
  });
  after(async () => {
    await shims?.stop();
    f?.cleanup();
  });

  test('GIVEN the shims WHEN pct and pvesh run THEN they answer as the lab does, stdin reaching pct exec', async () => {
    const list = await run(pct, ['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^100 +running +k3s-ctrl-1 *$/m);
    const cat = await run(pct, ['exec', '100', '--', 'cat'], { input: 'hello\n' });
    assert.deepEqual(cat, { code: 0, stdout: 'hello\n', stderr: '' });
    const missing = await run(pct, ['exec', '999', '--', 'true']);
    assert.equal(missing.code, 255);
    assert.match(missing.stderr, /999/);
    const resources = await run(join(f.dir, 'bin', 'pvesh'), ['get', '/cluster/resources', '--type', 'vm', '--output-format', 'json']);
    assert.equal(resources.code, 0, resources.stderr);
    assert.match(resources.stdout, /"vmid":101/);
  });

  test('GIVEN a fault that drops the connection WHEN pct runs THEN it exits 255 as ssh does', async () => {
    f.lab.addFault({ match: { argvPrefix: ['pct', 'list'] }, effect: { dropConnection: true } });
    assert.deepEqual(await run(pct, ['list']), { code: 255, stdout: '', stderr: 'Connection to host closed by remote host.\n' });
  });

  test('GIVEN a pct start held by a delay WHEN its client is killed (SIGKILL) THEN the start never happens and the daemon serves the next call', async () => {
    const stop = await run(pct, ['stop', '101']);
    assert.equal(stop.code, 0, stop.stderr);
    f.lab.addFault({ match: { argvPrefix: ['pct', 'start', '101'] }, effect: { delayMs: 400 } });
    let child: ChildProcess | undefined;
    const started = run(pct, ['start', '101'], { started: (c) => (child = c) });
    // The fault fired (consumed): the call is in its delay.
    await until('the start reached its delay', () => f.lab.state.faults.length === 0);
    child!.kill('SIGKILL');
    assert.equal((await started).code, null);
    // Well past the delay: a killed pct changed nothing.
    await new Promise((r) => setTimeout(r, 800));
    const status = await run(pct, ['status', '101']);
    assert.deepEqual(status, { code: 0, stdout: 'status: stopped\n', stderr: '' });
  });
});

describe('the real-sh hosts served by the harness daemon', { skip: realShSkipReason() ?? false }, () => {
  let f: LabFixture;
  let hosts: RealShHosts;
  let pct: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    f = await labFixture({ hosts: 1, workers: 1, clock: 'real' });
    hosts = await startRealShHosts(f.lab, 'dash');
    const h = hosts.sshd['pve1']!;
    pct = join(h.binDir, 'pct');
    env = { ...process.env, PATH: `${h.binDir}:/usr/bin:/bin` };
  });
  after(async () => {
    await hosts?.stop();
    f?.cleanup();
  });

  test("GIVEN pct exec WHEN a command reads stdin and fails THEN stdin and stdout pass straight through and its status is pct's", async () => {
    const r = await run(pct, ['exec', '100', '--', 'sh', '-c', 'cat; echo "$PATH" >&2; exit 3'], { env, input: 'a\nb\n' });
    assert.deepEqual(r, { code: 3, stdout: 'a\nb\n', stderr: '/sbin:/bin:/usr/sbin:/usr/bin\n' });
    // The model's programs in the root: kubectl answers for the lab's cluster.
    const k = await run(pct, ['exec', '100', '--', '/usr/local/bin/kubectl', 'get', 'nodes'], { env });
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /^k3s-worker-1 +Ready/m);
  });

  test('GIVEN one pct exec waiting for another WHEN both run at once THEN both finish', async () => {
    const waiting = run(pct, ['exec', '100', '--', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.02; done; echo went'], { env });
    const go = await run(pct, ['exec', '100', '--', 'sh', '-c', 'touch /tmp/go'], { env });
    assert.equal(go.code, 0, go.stderr);
    assert.deepEqual(await waiting, { code: 0, stdout: 'went\n', stderr: '' });
  });

  test('GIVEN a fault that drops the connection WHEN pct exec runs THEN it exits 255 as ssh does, and a session over ssh still runs', async () => {
    f.lab.addFault({ match: { level: 'host', vmid: 100 }, effect: { dropConnection: true } });
    assert.deepEqual(await run(pct, ['exec', '100', '--', 'true'], { env }), {
      code: 255,
      stdout: '',
      stderr: 'Connection to host closed by remote host.\n',
    });
    const h = hosts.sshd['pve1']!;
    const r = await run('ssh', ['-F', h.configFile, h.alias, 'cat /etc/pve/lxc/100.conf >/dev/null && echo ok'], { env });
    assert.deepEqual(r, { code: 0, stdout: 'ok\n', stderr: '' });
  });

  test('GIVEN a pct cost WHEN pct runs THEN it still reaches the lab, the cost changeable between calls', async () => {
    const h = hosts.sshd['pve1']!;
    wrapPct(h.binDir, 0.01);
    assert.match(readFileSync(pct, 'utf8'), /sleep "\$c"/);
    const r = await run(pct, ['exec', '100', '--', 'echo', 'hi'], { env });
    assert.deepEqual(r, { code: 0, stdout: 'hi\n', stderr: '' });
    setPctCost(h.binDir, 0);
    assert.equal((await run(pct, ['list'], { env })).code, 0);
  });
});
