/** The preflight's upgrade-controller check tells pve-k3s's own SUC Plans (`plan --engine suc`, applied) from another upgrader's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliInProcess, labFixture } from '../../helpers/lab-cli.js';
import { installSucState } from '../../../src/lab/suc-kubectl.js';

cliInProcess();

test("GIVEN pve-k3s's own SUC Plans applied WHEN preflight runs THEN upgrade-controller passes naming them; another Plan beside them fails, named alone", async () => {
  const f = await labFixture({ workers: 1 });
  try {
    f.lab.update((s) => installSucState(s.clusters['lab']!, Date.now()));
    const kubectl = (args: string[], stdin?: string) =>
      f.lab.shell('pve1').run(['pct', 'exec', '100', '--', '/usr/local/bin/kubectl', ...args], stdin === undefined ? {} : { stdin });
    const plans = await f.cli(['plan', '--engine', 'suc', '-o', 'json']);
    assert.equal(plans.code, 0, plans.stderr);
    const applied = await kubectl(['apply', '-f', '-'], plans.stdout);
    assert.equal(applied.code, 0, applied.stderr);
    const names = (JSON.parse(plans.stdout) as { items: Array<{ metadata: { namespace: string; name: string } }> }).items.map(
      (i) => `${i.metadata.namespace}/${i.metadata.name}`,
    );
    assert.ok(names.length > 0);
    const check = async () => {
      const r = await f.cli(['preflight', '-o', 'json']);
      const doc = JSON.parse(r.stdout) as { results: Array<{ id: string; status: string; message: string }> };
      return { code: r.code, results: doc.results.filter((x) => x.id === 'upgrade-controller') };
    };
    let r = await check();
    assert.equal(r.code, 0);
    assert.deepEqual(
      r.results.map((x) => [x.status, x.message]),
      [['pass', `no other system-upgrade-controller Plan (pve-k3s's own: ${names.join(', ')}), no Rancher agent`]],
    );
    const foreign = {
      apiVersion: 'upgrade.cattle.io/v1',
      kind: 'Plan',
      metadata: { name: 'k3s-server', namespace: 'system-upgrade' },
      spec: {
        concurrency: 1,
        channel: 'https://update.k3s.io/v1-release/channels/stable',
        serviceAccountName: 'system-upgrade',
        upgrade: { image: 'rancher/k3s-upgrade' },
        nodeSelector: {},
      },
    };
    const other = await kubectl(['apply', '-f', '-'], JSON.stringify(foreign));
    assert.equal(other.code, 0, other.stderr);
    r = await check();
    assert.equal(r.code, 1);
    assert.deepEqual(
      r.results.map((x) => [x.status, x.message]),
      [['fail', 'system-upgrade-controller Plans would upgrade nodes too: system-upgrade/k3s-server']],
    );
  } finally {
    f.cleanup();
  }
});
