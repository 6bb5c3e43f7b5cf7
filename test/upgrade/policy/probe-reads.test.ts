/**
 * The preflight probe's two reads on the controller (other upgraders: SUC Plans, Rancher's
 * agent) go in ONE `pct exec` (a framed `sh -c`), each keeping its own answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLab } from '../../lab/helpers.js';
import { renderLabInventory, type Lab } from '../../../src/lab/index.js';
import { parseInventory } from '../../../src/inventory/index.js';
import { KUBECTL } from '../../../src/kube/kube.js';
import { probePolicy, RANCHER_AGENT_ARGV } from '../../../src/upgrade/policy/probe.js';
import type { RunOptions, RunResult, Shell } from '../../../src/shell/shell.js';

/** A host's shell that keeps the scripts it was sent. */
class Recording implements Shell {
  scripts: string[] = [];
  constructor(readonly inner: Shell) {}
  get host(): string {
    return this.inner.host;
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.scripts.push(opts?.stdin ?? '');
    return this.inner.run(argv, opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function withProbe(
  lab: Lab,
  fn: (p: { inventory: ReturnType<typeof parseInventory>; shells: Map<string, Recording> }) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-policy-'));
  try {
    const inventory = parseInventory(renderLabInventory(lab), join(dir, 'pve-k3s.yaml'));
    const shells = new Map(lab.hosts().map((h) => [h, new Recording(lab.shell(h))] as const));
    await fn({ inventory, shells });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the controller's two reads are one pct exec, and each is read", async () => {
  const lab = await makeLab({ hosts: 1, workers: 1 });
  await withProbe(lab, async ({ inventory, shells }) => {
    const probe = await probePolicy(inventory, shells);
    assert.deepEqual(probe.cluster, { sucPlans: [], rancher: false, error: undefined });
    const ctl = inventory.nodes.find((n) => n.name === inventory.controller)!;
    const script = shells.get(ctl.host)!.scripts[0]!;
    // One for what only the inside shows, one for both kubectl reads.
    assert.equal(script.split(`pct exec ${ctl.vmid} -- `).length - 1, 2);
    assert.equal(script.split(KUBECTL).length - 1, 2);
  });
});

test("only Rancher's read is Forbidden: the error names that read, the SUC Plans are still read", async () => {
  const lab = await makeLab({ hosts: 1, workers: 1 });
  lab.addFault({
    match: { level: 'container', argvPrefix: [KUBECTL, ...RANCHER_AGENT_ARGV.slice(0, 2)] },
    effect: {
      exitCode: 1,
      stderr:
        'Error from server (Forbidden): deployments.apps "cattle-cluster-agent" is forbidden: User "ops" cannot get resource "deployments"\n',
    },
  });
  await withProbe(lab, async ({ inventory, shells }) => {
    const probe = await probePolicy(inventory, shells);
    assert.deepEqual(lab.state.faults, []);
    assert.deepEqual(probe.cluster, {
      sucPlans: [],
      rancher: undefined,
      error:
        'kubectl get deployments -n cattle-system failed: Error from server (Forbidden): deployments.apps "cattle-cluster-agent" is forbidden: User "ops" cannot get resource "deployments"',
    });
  });
});

test("the controller's container stopped: both reads fail in pct's words, no made-up answer", async () => {
  const lab = await makeLab({ hosts: 1, workers: 1 });
  await withProbe(lab, async ({ inventory, shells }) => {
    const ctl = inventory.nodes.find((n) => n.name === inventory.controller)!;
    assert.equal((await lab.shell(ctl.host).run(['pct', 'stop', String(ctl.vmid)])).code, 0);
    const probe = await probePolicy(inventory, shells);
    assert.equal(probe.cluster.sucPlans, undefined);
    assert.equal(probe.cluster.rancher, undefined);
    assert.match(probe.cluster.error ?? '', /^kubectl get plans\.upgrade\.cattle\.io failed: .*not running/);
  });
});
