/**
 * The whole upgrade over the SSH path: two real OpenSSH servers on 127.0.0.1 stand for two
 * Proxmox hosts, and their `pct` forwards to the embedded lab. Everything pve-k3s does on a
 * real host (batched probe script in the host's sh, pct exec with scripts on stdin,
 * multiplexed ssh with verified host keys) crosses a real sshd here.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SshShell } from '../../src/shell/ssh-shell.js';
import { sshdSkipReason, startSshd, type SshdHarness } from './harness/sshd.js';
import { startLabShims, type LabShims } from './harness/lab-shim.js';
import { labFixture, type LabFixture } from '../helpers/lab-cli.js';

const skip = sshdSkipReason();

describe('pve-k3s over a real sshd', { skip: skip ?? false }, () => {
  let f: LabFixture;
  const sshds: SshdHarness[] = [];
  let shims: LabShims | undefined;

  before(async () => {
    f = await labFixture({ hosts: 2 });
    for (const host of ['pve1', 'pve2']) {
      sshds.push(await startSshd({ alias: `${host}-e2e` }));
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
        '  k3s-worker-3: { vmid: 103, host: pve2, role: agent }',
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

  test('GIVEN two Proxmox hosts over ssh WHEN status runs THEN each host answers one batched script', async () => {
    const r = await f.cli(['status', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^k3s-worker-2 +agent +pve2 +102 +running +v1\.33\.3\+k3s1 +v1\.33\.3\+k3s1 +Ready +yes +v1\.33\.5\+k3s1$/m);
    assert.match(r.stdout, /^target: v1\.33\.5\+k3s1 \(channel stable\), 2 round trip\(s\)$/m);
  });

  test('GIVEN the SSH path WHEN upgrade --yes runs twice THEN the cluster is upgraded once, roles kept, and the second run has nothing to do', async () => {
    const r = await f.cli(['upgrade', '--yes'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Upgrade complete: 4 node\(s\) of lab now at v1\.33\.5\+k3s1/);
    const nodes = f.lab.summary().filter((n) => n.role);
    assert.deepEqual(
      nodes.map((n) => [n.name, n.kubelet, n.role, n.schedulable]),
      [
        ['k3s-ctrl-1', 'v1.33.5+k3s1', 'server', true],
        ['k3s-worker-1', 'v1.33.5+k3s1', 'agent', true],
        ['k3s-worker-2', 'v1.33.5+k3s1', 'agent', true],
        ['k3s-worker-3', 'v1.33.5+k3s1', 'agent', true],
      ],
    );
    const again = await f.cli(['upgrade', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to do: all 4 nodes run v1\.33\.5\+k3s1\.$/m);
  });

  test('GIVEN --no-persist WHEN status runs THEN no master is left; without it THEN the next command logs in no more', async () => {
    const h = sshds[0]!;
    const master = new SshShell({ host: 'pve1', destination: h.alias, configFile: h.configFile });
    await master.stopMaster();
    const logins = (): number => (readFileSync(h.logFile, 'utf8').match(/Accepted publickey/g) ?? []).length;
    const before = logins();
    const off = await f.cli(['status', '--no-persist']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(existsSync(master.controlPath), false, 'the master was stopped at the end of the command');
    for (let i = 0; i < 2; i++) {
      const r = await f.cli(['status']);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(existsSync(master.controlPath), true, 'the master stays for the next command');
    assert.equal(logins() - before, 2, 'one login for --no-persist, one for both later commands');
  });

  test('GIVEN a host whose sshd is down WHEN status runs THEN the host is named with what to do, exit 1', async () => {
    const h = sshds[1]!;
    // A host going down drops its connections too: end the master the earlier commands left up (ControlPersist).
    await new SshShell({ host: 'pve2', destination: h.alias, configFile: h.configFile }).stopMaster();
    await h.stop();
    const r = await f.cli(['status']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^k3s-worker-2 +agent +pve2 +102 +unknown /m);
    assert.match(r.stdout, /^warning: host pve2: cannot reach Proxmox host pve2 \(pve2-e2e\): /m);
  });
});
