/**
 * `status` reads the cluster's lease inside the facts probe (ProbedKube and gatherFacts's
 * controllerReads): one request per host, and the same state as reading the lease on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLab } from '../../lab/helpers.js';
import { renderLabInventory, type Lab } from '../../../src/lab/index.js';
import { parseInventory } from '../../../src/inventory/index.js';
import { gatherFacts } from '../../../src/upgrade/facts/gather.js';
import { ProbedKube } from '../../../src/upgrade/facts/probed-kube.js';
import { guarded, kubeFor, readClusterState, type ClusterState } from '../../../src/operation/guard.js';
import type { GuardEnv } from '../../../src/operation/guard-spec.js';
import type { RunOptions, RunResult, Shell } from '../../../src/shell/shell.js';
import { KUBECTL } from '../../../src/kube/kube.js';

/** A host's shell that counts its requests (each `run` is one SSH round trip). */
class Counting implements Shell {
  requests: string[] = [];
  scripts: string[] = [];
  constructor(readonly inner: Shell) {}
  get host(): string {
    return this.inner.host;
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.requests.push(argv.join(' '));
    this.scripts.push(opts?.stdin ?? '');
    return this.inner.run(argv, opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function setup(lab: Lab) {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-probed-'));
  const inventory = parseInventory(renderLabInventory(lab), join(dir, 'pve-k3s.yaml'));
  const shells = new Map(lab.hosts().map((h) => [h, new Counting(lab.shell(h))] as const));
  const env: GuardEnv = { inventory, shells, stateDir: join(dir, 'state') };
  return { dir, inventory, shells, env };
}

/** The facts and the cluster state the way status reads them: the lease in the probe's request. */
async function probed(env: GuardEnv) {
  const kube = new ProbedKube(kubeFor(env));
  const st = readClusterState(env, kube);
  const asked = await kube.asked;
  const facts = await gatherFacts(env.inventory, env.shells, { controllerReads: kube.reads(asked) }).finally(() => kube.release());
  return { facts, st: await st };
}

const comparable = (s: ClusterState) => ({ view: s.view, record: s.record, legacy: s.legacy, where: s.lease.where });

/** A read that fails: its message read alone, then read in the probe's request (with the facts that probe gave). */
async function failingBothWays(env: GuardEnv) {
  const said = (p: Promise<unknown>) =>
    p.then(
      () => 'read',
      (e: Error) => e.message,
    );
  const alone = await said(readClusterState(env));
  const kube = new ProbedKube(kubeFor(env));
  const st = said(readClusterState(env, kube));
  const facts = await gatherFacts(env.inventory, env.shells, { controllerReads: kube.reads(await kube.asked) }).finally(() =>
    kube.release(),
  );
  return { alone, probed: await st, facts };
}

test('the lease read rides in the facts probe: one request per host, the same state as reading it alone', async () => {
  const lab = await makeLab({ hosts: 2, workers: 2 });
  const { dir, inventory, shells, env } = await setup(lab);
  try {
    await guarded(env, { operation: 'lab reset', steps: 1 }, async () => {
      const alone = await readClusterState(env);
      assert.ok(alone.view.live, 'the lease is held while the operation runs');
      for (const s of shells.values()) {
        s.requests = [];
        s.scripts = [];
      }
      const { facts, st } = await probed(env);
      assert.deepEqual(comparable(st), comparable(alone));
      assert.equal(st.record?.operation, 'lab reset');
      assert.equal(facts.kubeError, undefined);
      assert.deepEqual(
        facts.nodes.map((n) => [n.name, n.kube?.ready]),
        inventory.nodes.map((n) => [n.name, true]),
      );
      for (const [h, s] of shells) assert.deepEqual(s.requests, ['sh -s'], `one request to ${h}`);
      // The controller's reads (get nodes, the lease, its node) are ONE pct exec: one pct start.
      const ctl = inventory.nodes.find((n) => n.name === inventory.controller)!;
      const script = shells.get(ctl.host)!.scripts[0]!;
      assert.equal(script.split(`pct exec ${ctl.vmid} -- `).length - 1, 2, 'k3s --version and one pct exec for every kubectl read');
      assert.equal(script.split(KUBECTL).length - 1, 3, 'three kubectl reads, in that one pct exec');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no lease yet: the probe answers NotFound as kubectl does, and status sees no lease', async () => {
  const lab = await makeLab({ hosts: 1, workers: 1 });
  const { dir, env } = await setup(lab);
  try {
    const { st } = await probed(env);
    assert.equal(st.view.live, false);
    assert.equal(st.view.lease, undefined);
    assert.equal(st.record, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the controller's container stopped: the lease read fails as it does on its own, the facts say why", async () => {
  const lab = await makeLab({ hosts: 1, workers: 1 });
  const { dir, inventory, env } = await setup(lab);
  try {
    const ctl = inventory.nodes.find((n) => n.name === inventory.controller)!;
    assert.equal((await lab.shell(ctl.host).run(['pct', 'stop', String(ctl.vmid)])).code, 0);
    const { alone, probed: st, facts } = await failingBothWays(env);
    assert.equal(st, alone);
    assert.match(alone, /not running/);
    assert.match(facts.kubeError ?? '', /kubectl get nodes failed \(exit 255\): .*not running/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only the lease read is Forbidden: that read names itself, as on its own, and the facts are read', async () => {
  const lab = await makeLab({ hosts: 1, workers: 1 });
  const { dir, inventory, env } = await setup(lab);
  const forbidden =
    'Error from server (Forbidden): leases.coordination.k8s.io "pve-k3s-lab" is forbidden: User "ops" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"\n';
  try {
    // Twice: once read alone, once in the probe.
    lab.addFault({
      match: { level: 'container', argvPrefix: [KUBECTL, 'get', 'lease'] },
      effect: { exitCode: 1, stderr: forbidden },
      times: 2,
    });
    const { alone, probed: st, facts } = await failingBothWays(env);
    assert.equal(
      alone,
      'kubectl get lease pve-k3s-lab on k3s-ctrl-1: Error from server (Forbidden): leases.coordination.k8s.io "pve-k3s-lab" is forbidden: User "ops" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"',
    );
    assert.equal(st, alone);
    assert.deepEqual(lab.state.faults, [], 'the probe ran the lease read itself (the fault fired there)');
    assert.equal(facts.kubeError, undefined);
    assert.deepEqual(
      facts.nodes.map((n) => [n.name, n.kube?.ready]),
      inventory.nodes.map((n) => [n.name, true]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
