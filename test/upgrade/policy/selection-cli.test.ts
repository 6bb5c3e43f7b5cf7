/** Node selection from the command line and the inventory: --node, --exclude, `upgrade: false`, in plan, upgrade and status. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}
const kubelets = (f: LabFixture) =>
  Object.fromEntries(
    f.lab
      .summary()
      .filter((n) => n.role)
      .map((n) => [n.name, n.kubelet]),
  );

test('GIVEN upgrade: false on a worker WHEN plan, upgrade and status run THEN it is held back, shown so, and keeps its version', async () => {
  await withLab({}, async (f) => {
    writeFileSync(
      f.inventory,
      readFileSync(f.inventory, 'utf8').replace('vmid: 103, host: pve2, role: agent', 'vmid: 103, host: pve2, role: agent, upgrade: false'),
    );
    const plan = await f.cli(['plan']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^3 of 4 nodes to change, 10 steps:$/m);
    assert.match(plan.stdout, /^Held back: k3s-worker-3 \(upgrade: false in the inventory\)$/m);
    const doc = JSON.parse((await f.cli(['plan', '-o', 'json'])).stdout);
    assert.equal(doc.nodes.find((n: { node: string }) => n.node === 'k3s-worker-3').held, 'inventory');
    const up = await f.cli(['upgrade', '--yes']);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(kubelets(f), {
      'k3s-ctrl-1': 'v1.33.5+k3s1',
      'k3s-worker-1': 'v1.33.5+k3s1',
      'k3s-worker-2': 'v1.33.5+k3s1',
      'k3s-worker-3': 'v1.33.3+k3s1',
    });
    const status = await f.cli(['status']);
    assert.match(status.stdout, /^held back \(upgrade: false\): k3s-worker-3$/m);
    const sj = JSON.parse((await f.cli(['status', '-o', 'json'])).stdout);
    assert.deepEqual(
      sj.nodes.map((n: { name: string; upgrade: boolean }) => [n.name, n.upgrade]),
      [
        ['k3s-ctrl-1', true],
        ['k3s-worker-1', true],
        ['k3s-worker-2', true],
        ['k3s-worker-3', false],
      ],
    );
    // --node names it: the explicit choice wins.
    const again = await f.cli(['upgrade', '--yes', '--node', 'k3s-worker-3']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(kubelets(f)['k3s-worker-3'], 'v1.33.5+k3s1');
  });
});

test('GIVEN --node and --exclude WHEN upgrade runs THEN only the chosen nodes move', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--node', 'k3s-worker-1', '--node', 'k3s-worker-2', '--exclude', 'k3s-worker-2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Held back: k3s-ctrl-1 \(not named by --node\), k3s-worker-2 \(--exclude\), k3s-worker-3 \(not named by --node\)$/m,
    );
    assert.deepEqual(kubelets(f), {
      'k3s-ctrl-1': 'v1.33.3+k3s1',
      'k3s-worker-1': 'v1.33.5+k3s1',
      'k3s-worker-2': 'v1.33.3+k3s1',
      'k3s-worker-3': 'v1.33.3+k3s1',
    });
  });
});

test('GIVEN a minor upgrade WHEN only workers are chosen THEN the plan is refused, naming the server that must come along', async () => {
  await withLab({ version: 'v1.32.9+k3s1' }, async (f) => {
    const r = await f.cli(['plan', '--version', 'v1.33.5+k3s1', '--exclude', 'k3s-ctrl-1']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: refusing this selection: it breaks the Kubernetes version skew policy: after upgrading k3s-worker-1, the kubelet on k3s-worker-1 \(v1\.33\) would be newer than the apiserver on k3s-ctrl-1 \(v1\.32\); this node must come along: k3s-ctrl-1$/m,
    );
    assert.match(r.stderr, /^ {2}add them \(--node k3s-ctrl-1\), or --allow-skew if you accept the risk$/m);
    const bad = await f.cli(['plan', '--node', 'k3s-worker-9']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: no node named "k3s-worker-9" in the inventory$/m);
  });
});

test('GIVEN upgrade.canary in the inventory WHEN plan runs THEN the canary goes first and the plan says the rest wait for a confirmation', async () => {
  await withLab({}, async (f) => {
    writeFileSync(f.inventory, `${readFileSync(f.inventory, 'utf8')}upgrade:\n  canary: k3s-worker-3\n`);
    const r = await f.cli(['plan']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}1\. k3s-worker-3 \(agent, CT 103 on pve2\)/m);
    assert.match(r.stdout, /^Canary: k3s-worker-3 goes first, alone; the rest follow once you confirm it \(on the terminal, or --yes\)$/m);
  });
});
