/**
 * Install on a bare lab over real OpenSSH with every script in a real sh (dash, then busybox
 * sh): the host's scripts in its own root (its /etc/pve synced with the lab's container
 * configs), the containers' in theirs (test/e2e/harness/realsh.ts).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { REAL_SHELLS, realShSkipReason, startRealShHosts, type RealShHosts } from './harness/realsh.js';
import { realShInventory } from './harness/inventory.js';

const skip = realShSkipReason();
const NOTHING = 'Nothing to do: the 2 container(s) of lab are configured for k3s and every node runs k3s.\n';

for (const shell of REAL_SHELLS) {
  describe(`install on a bare lab over a real sshd, scripts in ${shell}`, { skip: skip ?? false }, () => {
    let f: LabFixture;
    let hosts: RealShHosts;
    before(async () => {
      f = await labFixture({ bare: true, servers: 1, workers: 1, hosts: 1, clock: 'real' });
      hosts = await startRealShHosts(f.lab, shell);
      writeFileSync(f.inventory, realShInventory(f.lab, hosts));
    });
    after(async () => {
      await hosts?.stop();
      f?.cleanup();
    });

    test(`GIVEN a bare lab (the worker's container missing) WHEN install --yes runs twice (${shell}) THEN the first creates, configures and installs, the second changes nothing`, async () => {
      const r = await f.cli(['install', '--yes'], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\n {2}k3s-worker-1: creating container 101 on pve1\n/);
      assert.match(r.stdout, /\n {2}k3s-ctrl-1: installing k3s v1\.33\.5\+k3s1 \(first server\)\n/);
      assert.match(
        r.stdout,
        /\nInstalled lab: 1 container\(s\) created, 1 reconfigured, k3s v1\.33\.5\+k3s1 installed on 2 node\(s\) \(\d+\.\d+s\)\.\n/,
      );
      assert.deepEqual(
        f.lab
          .summary()
          .filter((n) => n.name.startsWith('k3s-'))
          .map((n) => [n.name, n.status, n.ready]),
        [
          ['k3s-ctrl-1', 'running', true],
          ['k3s-worker-1', 'running', true],
        ],
      );
      // The host's real sh wrote the first server's config in the host's root; the lab read it back.
      const conf = readFileSync(join(hosts.rootsDir, 'host-pve1', 'fs', 'etc/pve/lxc/100.conf'), 'utf8');
      assert.match(conf, /^lxc\.apparmor\.profile: unconfined$/m);
      assert.ok(f.lab.state.hosts[0]?.containers.find((c) => c.vmid === 100)?.config.some(([k]) => k === 'lxc.apparmor.profile'));
      // The container's real sh wrote the rshared unit in the new container's own root.
      assert.equal(existsSync(join(hosts.rootsDir, 'pve1-101', 'fs', 'etc/systemd/system/pve-k3s-rshared.service')), true);
      const again = await f.cli(['install', '--yes'], { timeoutMs: 180_000 });
      assert.equal(again.code, 0, again.stderr);
      assert.ok(again.stdout.endsWith(`\n${NOTHING}`), again.stdout);
    });
  });
}
