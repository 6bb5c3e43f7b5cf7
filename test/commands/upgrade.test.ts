/** Whole commands on the embedded lab: status, plan, upgrade, idempotence, exit statuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliInProcess, labFixture, nodeTable, type LabFixture } from '../helpers/lab-cli.js';
import type { Lab } from '../../src/lab/index.js';
import { INSTALL_SCRIPT_PATH } from '../../src/k3s/install-config.js';

cliInProcess();

function container(lab: Lab, name: string) {
  for (const h of lab.state.hosts) for (const c of h.containers) if (c.hostname === name) return c;
  throw new Error(`no container ${name}`);
}

function versions(lab: Lab): Record<string, string | undefined> {
  return Object.fromEntries(
    lab
      .summary()
      .filter((n) => n.role)
      .map((n) => [n.name, n.kubelet]),
  );
}

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

test('GIVEN the default lab WHEN status runs THEN every node is listed with role, host, vmid, versions and the target', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['status']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'NODE          ROLE    HOST  VMID  CONTAINER  INSTALLED     KUBELET       READY  SCHEDULABLE  TARGET');
    assert.equal(lines[1], 'k3s-ctrl-1    server  pve1  100   running    v1.33.3+k3s1  v1.33.3+k3s1  Ready  yes          v1.33.5+k3s1');
    assert.equal(lines[4], 'k3s-worker-3  agent   pve2  103   running    v1.33.3+k3s1  v1.33.3+k3s1  Ready  yes          v1.33.5+k3s1');
    assert.equal(lines[5], 'target: v1.33.5+k3s1 (channel stable)');
    assert.equal(lines[6], `inventory: ${f.inventory} (found)`);

    const j = await f.cli(['status', '-o', 'json']);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.apiVersion, 'pve-k3s.io/v1');
    assert.equal(doc.kind, 'ClusterStatus');
    assert.equal(doc.target.version, 'v1.33.5+k3s1');
    assert.deepEqual(
      doc.nodes.map((n: { name: string; upToDate: boolean }) => [n.name, n.upToDate]),
      [
        ['k3s-ctrl-1', false],
        ['k3s-worker-1', false],
        ['k3s-worker-2', false],
        ['k3s-worker-3', false],
      ],
    );
  });
});

test('GIVEN the default lab WHEN plan runs THEN it shows workers first then the controller, and changes nothing', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['plan']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Cluster lab: target v1.33.5+k3s1 (channel stable)',
        '4 of 4 nodes to change, 14 steps:',
        'Phase 1/1: patch upgrade to v1.33.5+k3s1, workers-first',
        '  1. k3s-worker-1 (agent, CT 101 on pve1) v1.33.3+k3s1 -> v1.33.5+k3s1: drain, install v1.33.5+k3s1, wait Ready at v1.33.5+k3s1, uncordon',
        '  2. k3s-worker-2 (agent, CT 102 on pve2) v1.33.3+k3s1 -> v1.33.5+k3s1: drain, install v1.33.5+k3s1, wait Ready at v1.33.5+k3s1, uncordon',
        '  3. k3s-worker-3 (agent, CT 103 on pve2) v1.33.3+k3s1 -> v1.33.5+k3s1: drain, install v1.33.5+k3s1, wait Ready at v1.33.5+k3s1, uncordon',
        '  4. k3s-ctrl-1 (server, CT 100 on pve1) v1.33.3+k3s1 -> v1.33.5+k3s1: install v1.33.5+k3s1, wait Ready at v1.33.5+k3s1',
        'Preflight for v1.33.5+k3s1: 13 checks, all passed',
        '',
      ].join('\n'),
    );
    const j = JSON.parse((await f.cli(['plan', '-o', 'json'])).stdout);
    assert.equal(j.apiVersion, 'pve-k3s.io/v2');
    assert.equal(j.preflight.ok, true);
    assert.equal(j.kind, 'UpgradePlan');
    assert.equal(j.phases[0].steps.length, 14);
    assert.deepEqual(Object.values(versions(f.lab)), Array(4).fill('v1.33.3+k3s1'));
  });
});

test('GIVEN a patch upgrade WHEN upgrade --yes runs THEN every node reaches the target, workers keep their role and token, and a second run has nothing to do', async () => {
  await withLab({}, async (f) => {
    const tokenBefore = container(f.lab, 'k3s-worker-1').fs['/etc/systemd/system/k3s-agent.service.env']?.content;
    assert.ok(tokenBefore?.includes('K3S_TOKEN='));
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Upgrade complete: 4 node\(s\) of lab now at v1\.33\.5\+k3s1/);
    assert.deepEqual(versions(f.lab), {
      'k3s-ctrl-1': 'v1.33.5+k3s1',
      'k3s-worker-1': 'v1.33.5+k3s1',
      'k3s-worker-2': 'v1.33.5+k3s1',
      'k3s-worker-3': 'v1.33.5+k3s1',
    });
    for (const w of ['k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']) {
      const c = container(f.lab, w);
      assert.deepEqual(Object.keys(c.k3s.services), ['k3s-agent'], `${w} must stay an agent`);
      assert.equal(
        c.fs['/etc/systemd/system/k3s-agent.service.env']?.content,
        tokenBefore?.replace(/K3S_URL='[^']*'/, (m) => m),
        `${w} env file`,
      );
      assert.equal(c.fs['/etc/systemd/system/k3s.service'], undefined);
    }
    assert.ok(
      f.lab.summary().every((n) => n.schedulable !== false),
      'no node left cordoned',
    );
    // The token is never shown: not in progress, not in the summary.
    const token = /K3S_TOKEN='([^']*)'/.exec(tokenBefore!)![1]!;
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token));
    // Progress went to stderr as plain timestamped lines (no TTY here), in the users' order.
    const starts = r.stderr
      .split('\n')
      .filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \[\d+\/14\]/.test(l))
      .map((l) => l.replace(/^.*\] /, ''));
    assert.deepEqual(starts.slice(0, 4), [
      'k3s-worker-1: drain',
      'k3s-worker-1: install v1.33.5+k3s1',
      'k3s-worker-1: wait Ready',
      'k3s-worker-1: uncordon',
    ]);
    assert.equal(starts.at(-1), 'k3s-ctrl-1: wait Ready');

    const again = await f.cli(['upgrade', '--yes']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, 'Cluster lab: target v1.33.5+k3s1 (channel stable)\nNothing to do: all 4 nodes run v1.33.5+k3s1.\n');
  });
});

test('GIVEN a minor upgrade WHEN upgrade runs THEN the controller goes first (drained), then the workers', async () => {
  await withLab({ version: 'v1.32.4+k3s1' }, async (f) => {
    const r = await f.cli(['upgrade', '--yes', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, 'UpgradeResult');
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.completed.slice(0, 4), [
      '1/k3s-ctrl-1/drain',
      '1/k3s-ctrl-1/install',
      '1/k3s-ctrl-1/wait-ready',
      '1/k3s-ctrl-1/uncordon',
    ]);
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.5+k3s1']));
  });
});

test('GIVEN a cluster two minors behind WHEN upgrade runs THEN it steps through v1.32.9 before v1.33.5', async () => {
  await withLab({ version: 'v1.31.2+k3s1', workers: 2 }, async (f) => {
    const plan = JSON.parse((await f.cli(['plan', '-o', 'json'])).stdout);
    assert.deepEqual(
      plan.phases.map((p: { version: string }) => p.version),
      ['v1.32.9+k3s1', 'v1.33.5+k3s1'],
    );
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /phase 1\/2: minor upgrade to v1\.32\.9\+k3s1 \(servers-first\)/);
    assert.match(r.stderr, /phase 2\/2: minor upgrade to v1\.33\.5\+k3s1 \(servers-first\)/);
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.5+k3s1']));
  });
});

test('GIVEN three servers with embedded etcd WHEN upgrade runs THEN servers go one at a time, each drained, the controller last', async () => {
  await withLab({ servers: 3, workers: 2 }, async (f) => {
    const r = await f.cli(['upgrade', '--yes', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const serverInstalls = doc.completed.filter((id: string) => /k3s-server-\d\/install$/.test(id));
    assert.deepEqual(serverInstalls, ['1/k3s-server-2/install', '1/k3s-server-3/install', '1/k3s-server-1/install']);
    for (const id of serverInstalls) assert.ok(doc.completed.includes(id.replace('install', 'drain')), id);
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.5+k3s1']));
    for (const s of ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'])
      assert.deepEqual(Object.keys(container(f.lab, s).k3s.services), ['k3s']);
  });
});

test('GIVEN a pinned --version WHEN upgrade --dry-run runs THEN the plan targets it and nothing changes', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['upgrade', '--dry-run', '--version', 'v1.33.4+k3s1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Cluster lab: target v1\.33\.4\+k3s1 \(pinned\)$/m);
    assert.match(r.stdout, /^Dry run: nothing was changed\.$/m);
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.3+k3s1']));
  });
});

test('GIVEN no terminal and no --yes WHEN upgrade runs THEN it refuses with exit 2 and changes nothing', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['upgrade']);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      'error: refusing to upgrade without confirmation: not running in a terminal\n  review the plan (pve-k3s plan) and pass --yes\n',
    );
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.3+k3s1']));
  });
});

test('GIVEN a target older than the cluster WHEN planned THEN the downgrade is refused with exit 1', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['plan', '--version', 'v1.33.1+k3s1']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: node k3s-ctrl-1 runs v1\.33\.3\+k3s1, newer than the target v1\.33\.1\+k3s1; pve-k3s never downgrades \(and 3 more problems\)$/m,
    );
  });
});

test('GIVEN a forced workers-first minor upgrade WHEN planned THEN skew is refused unless --allow-skew', async () => {
  await withLab({ version: 'v1.32.9+k3s1' }, async (f) => {
    const r = await f.cli(['plan', '--order', 'workers-first']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: refusing a plan that breaks the Kubernetes version skew policy: after upgrading k3s-worker-1, the kubelet on k3s-worker-1 \(v1\.33\) would be newer than the apiserver on k3s-ctrl-1 \(v1\.32\)$/m,
    );
    const ok = await f.cli(['plan', '--order', 'workers-first', '--allow-skew']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /warning: version skew allowed by --allow-skew/);
  });
});

test('GIVEN a stopped worker WHEN upgrade runs THEN it refuses before touching anything and says how to fix it', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      for (const h of s.hosts) for (const c of h.containers) if (c.vmid === 103) c.status = 'stopped';
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: node k3s-worker-3: container 103 on pve2 is stopped\n  start it (pct start 103 on pve2) and run again, or remove the node from the inventory\n',
    );
    assert.deepEqual(new Set(Object.values(versions(f.lab)).filter(Boolean)), new Set(['v1.33.3+k3s1']));
  });
});

test('GIVEN a broken inventory WHEN any command runs THEN exit 2 with file, line and field', async () => {
  await withLab({}, async (f) => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(f.inventory, readFileSync(f.inventory, 'utf8').replace('vmid: 101', 'vmid: 12'));
    const r = await f.cli(['status']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: ${f.inventory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: nodes\\.k3s-worker-1\\.vmid: must be an integer from 100 to 999999999, got 12$`,
        'm',
      ),
    );
  });
});

test('GIVEN an install script that fails on one worker WHEN upgrade runs THEN it stops there, says which node and why, and a second run finishes the job', async () => {
  await withLab({}, async (f) => {
    f.lab.addFault({
      match: { vmid: 102, argvPrefix: ['sh', INSTALL_SCRIPT_PATH] },
      effect: { exitCode: 1, stderr: '[ERROR]  Download failed\n' },
      times: 1,
    });
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: the k3s install script failed in k3s-worker-2 \(exit 1\): \[ERROR\]  Download failed$/m);
    assert.match(r.stderr, /^The upgrade stopped at step 1\/k3s-worker-2\/install\.$/m);
    assert.match(r.stderr, /^Cordoned by this upgrade and NOT uncordoned: k3s-worker-2\.$/m);
    assert.match(r.stderr, /^    pct exec 100 -- \/usr\/local\/bin\/kubectl uncordon k3s-worker-2   \(on lab host pve1\)$/m);
    const status = JSON.parse((await f.cli(['status', '-o', 'json'])).stdout);
    assert.equal(status.nodes.find((n: { name: string }) => n.name === 'k3s-worker-2').cordonedByPveK3s, 'v1.33.5+k3s1');

    const again = await f.cli(['upgrade', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.5+k3s1']));
    assert.ok(f.lab.summary().every((n) => n.schedulable !== false));
  });
});

test('GIVEN a plan saved with plan -o json WHEN upgrade --plan runs it THEN it runs if the cluster still gets that plan, and is refused once it changed', async () => {
  await withLab({}, async (f) => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const planFile = `${f.dir}/plan.json`;
    writeFileSync(planFile, (await f.cli(['plan', '-o', 'json'])).stdout);
    const stale = `${f.dir}/stale.json`;
    writeFileSync(stale, (await f.cli(['plan', '-o', 'json', '--version', 'v1.33.4+k3s1'])).stdout);
    const refused = await f.cli(['upgrade', '--yes', '--plan', stale]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: the cluster changed since ${stale.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was made: its plan no longer matches$`,
        'm',
      ),
    );
    const r = await f.cli(['upgrade', '--yes', '--plan', planFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(new Set(Object.values(versions(f.lab))), new Set(['v1.33.5+k3s1']));
    const garbage = `${f.dir}/garbage.json`;
    writeFileSync(garbage, '{"kind":"Something"}');
    const bad = await f.cli(['upgrade', '--yes', '--plan', garbage]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /is not a pve-k3s plan \(apiVersion pve-k3s\.io\/v2, kind UpgradePlan\)/);
    // A plan file of the earlier format is refused with what to do.
    const old = `${f.dir}/old.json`;
    writeFileSync(old, JSON.stringify({ ...JSON.parse(readFileSync(planFile, 'utf8')), apiVersion: 'pve-k3s.io/v1' }));
    const older = await f.cli(['upgrade', '--yes', '--plan', old]);
    assert.equal(older.code, 2);
    assert.match(older.stderr, /is a plan of an earlier pve-k3s \(pve-k3s\.io\/v1\): it does not record the preflight and policy$/m);
    assert.match(older.stderr, /review the plan again and save it: pve-k3s plan -o json > plan\.json/);
  });
});

test("GIVEN an upgrade that finishes WHEN it prints its final table THEN that table is the one status prints right after (made from the run's own last read)", async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['upgrade', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const final = nodeTable(r.stdout.slice(r.stdout.indexOf('Upgrade complete')));
    const s = await f.cli(['status']);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(final, nodeTable(s.stdout));
    assert.equal(final.length, 5);
    for (const row of final.slice(1)) assert.match(row, /v1\.33\.5\+k3s1 {2}v1\.33\.5\+k3s1 {2}Ready {2}yes {10}up to date$/);
  });
});
