/**
 * Upgrades over real OpenSSH where every script runs in a real sh (dash, then busybox sh):
 * host scripts in that sh behind sshd, container scripts in that sh inside each container's
 * own root (test/e2e/harness/realsh.ts), with kubectl, k3s, systemctl and curl the lab
 * model's programs. Skipped only where sshd, bwrap, dash or busybox is missing, never on CI.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { binaryContent } from '../../src/lab/index.js';
import { join } from 'node:path';
import { labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { REAL_SHELLS, realShSkipReason, startRealShHosts, type RealShHosts } from './harness/realsh.js';
import { realShInventory } from './harness/inventory.js';
import { unmanagedPod } from '../helpers/pods.js';

const skip = realShSkipReason();
const TARGET = 'v1.33.5+k3s1';

for (const shell of REAL_SHELLS) {
  describe(`upgrade over a real sshd, scripts in ${shell}`, { skip: skip ?? false }, () => {
    let f: LabFixture;
    let hosts: RealShHosts;

    before(async () => {
      f = await labFixture({ hosts: 2, clock: 'real' });
      hosts = await startRealShHosts(f.lab, shell);
      writeFileSync(f.inventory, realShInventory(f.lab, hosts));
    });
    after(async () => {
      await hosts?.stop();
      f?.cleanup();
    });

    test(`GIVEN a cluster two patches behind WHEN upgrade --yes runs (${shell}) THEN every node runs the target, the files are in each container's own root, and a second run has nothing to do`, async () => {
      const r = await f.cli(['upgrade', '--yes'], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Upgrade complete: 4 node\(s\) of lab now at v1\.33\.5\+k3s1/);
      assert.deepEqual(
        f.lab
          .summary()
          .filter((n) => n.role)
          .map((n) => [n.name, n.kubelet, n.schedulable]),
        [
          ['k3s-ctrl-1', TARGET, true],
          ['k3s-worker-1', TARGET, true],
          ['k3s-worker-2', TARGET, true],
          ['k3s-worker-3', TARGET, true],
        ],
      );
      // In k3s-worker-2's own root: the real sh made the script's directory and removed the script
      // after running it; the installer's unit and the new binary are there.
      const root = join(hosts.rootsDir, 'pve2-102', 'fs');
      assert.equal(existsSync(join(root, 'var/lib/pve-k3s')), true);
      assert.equal(existsSync(join(root, 'var/lib/pve-k3s/install.sh')), false);
      assert.match(readFileSync(join(root, 'etc/systemd/system/k3s-agent.service'), 'utf8'), /^ExecStart=\/usr\/local\/bin\/k3s \\$/m);
      const wrapper = /^# pve-k3s e2e: a program of the lab's model: (\S+)$/m.exec(readFileSync(join(root, 'usr/local/bin/k3s'), 'utf8'));
      assert.equal(Buffer.from(wrapper?.[1] ?? '', 'base64').toString('utf8'), binaryContent(TARGET));
      const again = await f.cli(['upgrade', '--yes']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^Nothing to do: all 4 nodes run v1\.33\.5\+k3s1\.$/m);
    });
  });

  describe(`a failed drain over a real sshd, scripts in ${shell}`, { skip: skip ?? false }, () => {
    let f: LabFixture;
    let hosts: RealShHosts;

    before(async () => {
      f = await labFixture({ hosts: 2, workers: 2, clock: 'real' });
      hosts = await startRealShHosts(f.lab, shell);
      writeFileSync(f.inventory, realShInventory(f.lab, hosts));
    });
    after(async () => {
      await hosts?.stop();
      f?.cleanup();
    });

    test(`GIVEN a pod with no controller WHEN upgrade drains its node (${shell}) THEN kubectl's own error line is the reason, the node is listed as cordoned, and resume --drain-force finishes`, async () => {
      f.lab.update((s) => {
        s.clusters['lab']!.pods.push(unmanagedPod({ node: 'k3s-worker-1' }));
      });
      const r = await f.cli(['upgrade', '--yes'], { timeoutMs: 180_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error: draining k3s-worker-1 failed: error: unable to drain node "k3s-worker-1" due to error: cannot delete Pods that declare no controller \(use --force to override\): default\/debug, continuing command\.\.\.\nThere are pending nodes to be drained:\n k3s-worker-1\nerror: cannot delete Pods that declare no controller \(use --force to override\): default\/debug$/m,
      );
      assert.doesNotMatch(r.stderr, /failed: node\/k3s-worker-1 cordoned/);
      assert.match(r.stderr, /^Cordoned by this upgrade and NOT uncordoned: k3s-worker-1\.$/m);
      const again = await f.cli(['resume', '--yes', '--drain-force'], { timeoutMs: 180_000 });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        f.lab
          .summary()
          .filter((n) => n.role)
          .map((n) => [n.name, n.kubelet, n.schedulable]),
        [
          ['k3s-ctrl-1', TARGET, true],
          ['k3s-worker-1', TARGET, true],
          ['k3s-worker-2', TARGET, true],
        ],
      );
    });
  });
}
