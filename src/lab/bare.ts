/**
 * `pve-k3s lab init --bare`: the lab a new user starts from. The containers of the inventory
 * exist but run no k3s and lack the LXC settings k3s needs (no lxc.* lines, swap on, one
 * without nesting, the first server with a snapshot section in its config), and the last
 * node's container does not exist at all: `pve-k3s install` creates it from the template.
 */
import { labInventoryText } from './inventory.js';
import { planNodes, buildWorld } from './world.js';
import { LAB_TEMPLATE, TEMPLATE_DIR } from './pct-create.js';
import { mkdirp, newFs } from './vfs.js';
import type { ContainerState, LabInitRecord, LabState } from './types.js';

export function buildBareWorld(init: LabInitRecord, now = Date.now()): LabState {
  const s = buildWorld(init, now);
  const plans = planNodes(init);
  const missing = plans[plans.length - 1];
  for (const h of s.hosts) {
    mkdirp(h.fs, TEMPLATE_DIR);
    h.fs[`${TEMPLATE_DIR}/${LAB_TEMPLATE}`] = { content: 'debian 12 rootfs (lab template)\n', mode: 0o644 };
    h.containers = h.containers.filter((ct) => plans.length < 2 || ct.vmid !== missing?.vmid);
    for (const ct of h.containers) if (plans.some((p) => p.vmid === ct.vmid)) strip(ct, now);
  }
  const first = plans[0];
  const firstCt = s.hosts.flatMap((h) => h.containers).find((c) => c.vmid === first?.vmid);
  if (firstCt) {
    // Taken before anything was installed: its section must stay as it is.
    firstCt.snapshots.push({
      name: 'fresh',
      description: 'before k3s',
      snaptime: Math.floor(now / 1000) - 3600,
      parent: undefined,
      config: structuredClone(firstCt.config),
      fs: structuredClone(firstCt.fs),
      k3s: structuredClone(firstCt.k3s),
    });
    firstCt.config.push(['parent', 'fresh']);
  }
  const worker = plans.find((p) => p.role === 'agent' && p !== missing);
  const workerCt = s.hosts.flatMap((h) => h.containers).find((c) => c.vmid === worker?.vmid);
  if (workerCt) workerCt.config = workerCt.config.filter(([k]) => k !== 'features');
  s.clusters = {};
  s.init = { ...init, bare: true };
  return s;
}

/** A privileged Debian container as `pct create` left it: no k3s, no lxc.* lines, swap 512. */
function strip(ct: ContainerState, now: number): void {
  ct.config = ct.config.filter(([k]) => !k.startsWith('lxc.')).map(([k, v]) => (k === 'swap' ? [k, '512'] : [k, v]));
  const fs = newFs(['/var/lib', '/etc/rancher']);
  fs['/etc/hostname'] = { content: `${ct.hostname}\n`, mode: 0o644 };
  fs['/etc/os-release'] = ct.fs['/etc/os-release'] ?? { content: 'ID=debian\n', mode: 0o644 };
  ct.fs = fs;
  ct.k3s = { binaryVersion: undefined, services: {}, dataCluster: undefined };
  ct.startedAt = now - 3_600_000;
}

/** The inventory of a bare lab: every planned node, with the container settings `install` creates from. */
export function renderBareInventory(dir: string, s: LabState): string {
  const plans = planNodes(s.init);
  const nodes = plans.map(
    (p) =>
      `  ${p.name}: { vmid: ${p.vmid}, host: ${p.host}, role: ${p.role}, container: { network: "name=eth0,bridge=vmbr0,ip=${p.ip}/24,gw=10.0.20.1" } }`,
  );
  return labInventoryText(dir, s, {
    comment: 'pve-k3s inventory for the embedded lab (pve-k3s lab init --bare): containers without k3s, one to create',
    nodeLines: nodes,
    extra: [
      'container:                # how `pve-k3s install` creates a missing container',
      `  template: local:vztmpl/${LAB_TEMPLATE}`,
      '  storage: local-lvm',
      '  diskSize: 20',
      '  cores: 2',
      '  memory: 4096',
    ],
  });
}

export function isBare(s: LabState): boolean {
  return s.init.bare === true;
}
