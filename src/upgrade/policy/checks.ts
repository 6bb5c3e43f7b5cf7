/**
 * The preflight checks, as kubeadm's: each a pure function of the facts, the probe and the
 * plan, returning one result per scope (node, host or cluster). A failed check stops
 * `upgrade` unless `--ignore-preflight <id>` names it.
 */
import type { ClusterFacts, NodeFacts } from '../../domain/facts.js';
import type { UpgradePlan } from '../../domain/plan.js';
import type { PreflightResult } from '../../domain/policy.js';
import type { PlanError } from '../../domain/errors.js';
import type { Inventory } from '../../inventory/types.js';
import { containerStorages, SNAPSHOT_STORAGE_TYPES } from '../../proxmox/host-config.js';
import type { HostPolicyProbe, PolicyProbe } from './probe.js';

export interface CheckInput {
  inv: Inventory;
  facts: ClusterFacts;
  probe: PolicyProbe;
  /** The plan the checks look at (which nodes move); undefined when the planner refused. */
  plan: UpgradePlan | undefined;
  planError: PlanError | undefined;
  /** Snapshots were asked for (--snapshot, upgrade.snapshot). */
  snapshot: boolean;
}

export type Check = (input: CheckInput) => PreflightResult[];

/** The k3s binary is about this big (v1.33-1.36, amd64) when its size could not be read. */
export const K3S_BINARY_ESTIMATE = 75 * 1024 * 1024;

const pass = (id: string, scope: string, message: string): PreflightResult => ({ id, status: 'pass', scope, message });

/** Nodes the plan touches (all when there is no plan), and whether a node is held back. */
function moving(input: CheckInput): { touched: Set<string>; held: Set<string> } {
  const held = new Set((input.plan?.nodes ?? []).filter((n) => n.held !== undefined).map((n) => n.node));
  const touched = new Set(input.plan ? input.plan.phases.flatMap((p) => p.steps.map((s) => s.node)) : input.inv.nodes.map((n) => n.name));
  return { touched, held };
}

function hostOf(input: CheckInput, f: NodeFacts): HostPolicyProbe | undefined {
  return input.probe.hosts.find((h) => h.host === f.host);
}

const plan: Check = ({ planError }) =>
  planError
    ? [
        {
          id: 'plan',
          status: 'fail',
          scope: planError.node ?? 'cluster',
          message: planError.message,
          ...(planError.hint !== undefined ? { fix: planError.hint } : {}),
        },
      ]
    : [pass('plan', 'cluster', 'the planner accepts the upgrade')];

const containerRunning: Check = (input) => {
  const { held } = moving(input);
  return input.facts.nodes.map((f) => {
    if (f.container === 'running') return pass('container-running', f.name, `CT ${f.vmid} on ${f.host} is running`);
    const err = input.facts.hostErrors[f.host];
    return {
      id: 'container-running',
      status: held.has(f.name) ? 'warn' : 'fail',
      scope: f.name,
      message:
        err !== undefined
          ? `host ${f.host} could not be probed: ${err}`
          : `CT ${f.vmid} on ${f.host} is ${f.container === 'missing' ? 'not there' : f.container}${held.has(f.name) ? ' (held back)' : ''}`,
      fix:
        err !== undefined
          ? `check that ${f.host} is reachable (ssh)`
          : `pct start ${f.vmid} on ${f.host}, or fix the node's vmid/host in ${input.inv.file}`,
    };
  });
};

const nodeReady: Check = (input) => {
  const { held } = moving(input);
  if (input.facts.kubeError !== undefined)
    return [
      {
        id: 'node-ready',
        status: 'fail',
        scope: 'cluster',
        message: `the nodes could not be read from ${input.facts.controller}: ${input.facts.kubeError}`,
        fix: `check k3s on ${input.facts.controller} (pve-k3s doctor ${input.facts.controller})`,
      },
    ];
  return input.facts.nodes.map((f) => {
    if (f.kube?.ready) return pass('node-ready', f.name, 'Ready');
    return {
      id: 'node-ready',
      status: held.has(f.name) ? 'warn' : 'fail',
      scope: f.name,
      message: f.kube === undefined ? 'not registered in the cluster' : 'NotReady',
      fix: `find out why before upgrading: pve-k3s doctor ${f.name}; kubectl describe node ${f.name}`,
    };
  });
};

const containerLock: Check = (input) => {
  const { held } = moving(input);
  return input.facts.nodes.map((f) =>
    f.lock === undefined
      ? pass('container-lock', f.name, 'not locked')
      : {
          id: 'container-lock',
          status: held.has(f.name) ? 'warn' : 'fail',
          scope: f.name,
          message: `CT ${f.vmid} on ${f.host} is locked (${f.lock}): a Proxmox task (backup, snapshot, migration) holds it`,
          fix: `wait for that task to end (Datacenter > Tasks); if none runs, pct unlock ${f.vmid} on ${f.host}`,
        },
  );
};

/** Embedded etcd keeps quorum while one member restarts only with at least three members, all up. */
const etcdQuorum: Check = (input) => {
  const servers = input.facts.nodes.filter((f) => f.role === 'server');
  const { touched } = moving(input);
  if (servers.length < 2) return [pass('etcd-quorum', 'cluster', 'one server: no etcd quorum to keep')];
  if (!servers.some((s) => touched.has(s.name))) return [pass('etcd-quorum', 'cluster', 'no server is upgraded')];
  const up = servers.filter((s) => s.kube?.ready === true).length;
  const quorum = Math.floor(servers.length / 2) + 1;
  if (up - 1 >= quorum)
    return [pass('etcd-quorum', 'cluster', `${up} of ${servers.length} etcd members up: quorum (${quorum}) holds with one down`)];
  const down = servers.filter((s) => s.kube?.ready !== true).map((s) => s.name);
  return [
    {
      id: 'etcd-quorum',
      status: 'fail',
      scope: 'cluster',
      message: `with one server down for its upgrade, ${up - 1} of ${servers.length} etcd members would be up; quorum needs ${quorum}${down.length ? ` (already down: ${down.join(', ')})` : ''}`,
      fix:
        servers.length === 2
          ? 'two etcd members lose quorum whenever one restarts: add a third server (pve-k3s join), or accept the API outage with --ignore-preflight etcd-quorum'
          : `bring ${down.join(', ')} back first (pve-k3s doctor)`,
    },
  ];
};

const diskSpace: Check = (input) => {
  const { touched } = moving(input);
  const out: PreflightResult[] = [];
  for (const f of input.facts.nodes) {
    if (!touched.has(f.name) || f.container !== 'running') continue;
    const inside = hostOf(input, f)?.inside.get(f.name);
    if (!inside || inside.free.length === 0) {
      out.push({
        id: 'disk-space',
        status: 'warn',
        scope: f.name,
        message: 'free space could not be read (df)',
        fix: `pct exec ${f.vmid} -- df -h / on ${f.host}`,
      });
      continue;
    }
    const bytes = inside.binaryBytes ?? K3S_BINARY_ESTIMATE;
    const needKb = Math.ceil((2 * bytes) / 1024);
    const low = inside.free.reduce((a, b) => (b.availKb < a.availKb ? b : a));
    const mb = (kb: number) => `${Math.round(kb / 1024)} MiB`;
    out.push(
      low.availKb >= needKb
        ? pass('disk-space', f.name, `${mb(low.availKb)} free on ${low.mount}; the download needs ${mb(needKb)}`)
        : {
            id: 'disk-space',
            status: 'fail',
            scope: f.name,
            message: `${mb(low.availKb)} free on ${low.mount}; the download needs ${mb(needKb)} (twice the ${mb(bytes / 1024)} k3s binary)`,
            fix: `free space (pct exec ${f.vmid} -- /usr/local/bin/k3s crictl rmi --prune) or grow the disk: pct resize ${f.vmid} rootfs +5G (on ${f.host})`,
          },
    );
  }
  return out.length > 0 ? out : [pass('disk-space', 'cluster', 'no node to download to')];
};

const snapshotStorage: Check = (input) => {
  if (!input.snapshot) return [pass('snapshot-storage', 'cluster', 'no snapshots asked for')];
  const { touched } = moving(input);
  const servers = input.inv.nodes.filter((n) => n.role === 'server');
  const out: PreflightResult[] = [];
  for (const f of input.facts.nodes) {
    if (!touched.has(f.name)) continue;
    // Embedded-etcd members are never snapshotted (rolling one back corrupts etcd).
    if (f.role === 'server' && servers.length > 1) continue;
    const hp = hostOf(input, f);
    const conf = hp?.confs.get(f.vmid);
    if (!conf || !hp?.storage) {
      out.push({
        id: 'snapshot-storage',
        status: 'warn',
        scope: f.name,
        message: `CT ${f.vmid}'s config or ${f.host}'s storage.cfg could not be read`,
      });
      continue;
    }
    const bad = containerStorages(conf.current).filter((v) => !SNAPSHOT_STORAGE_TYPES.has(hp.storage?.get(v.storage) ?? ''));
    out.push(
      bad.length === 0
        ? pass('snapshot-storage', f.name, 'its volumes can be snapshotted')
        : {
            id: 'snapshot-storage',
            status: 'fail',
            scope: f.name,
            message: `${bad.map((v) => `${v.key} on ${v.storage} (${hp.storage?.get(v.storage) ?? 'unknown storage'})`).join(', ')}: no snapshots there`,
            fix: `run without --snapshot, or move the volume to ZFS, LVM-thin, Ceph RBD or btrfs: pct move-volume ${f.vmid} ${bad[0]!.key} <storage> (on ${f.host})`,
          },
    );
  }
  return out.length > 0 ? out : [pass('snapshot-storage', 'cluster', 'no container to snapshot')];
};

/** HA may move (or restart) a container while it upgrades; a load balancer moves them by itself. */
const proxmoxHa: Check = (input) => {
  const { touched } = moving(input);
  const out: PreflightResult[] = [];
  for (const f of input.facts.nodes) {
    if (!touched.has(f.name)) continue;
    const hp = hostOf(input, f);
    if (!hp || hp.ha === undefined) {
      out.push({ id: 'proxmox-ha', status: 'warn', scope: f.name, message: `${f.host}'s HA resources could not be read` });
      continue;
    }
    const r = hp.ha.find((x) => x.type === 'ct' && x.vmid === f.vmid);
    if (!r || r.state === 'ignored' || r.state === 'disabled') {
      out.push(pass('proxmox-ha', f.name, r ? `HA resource ct:${f.vmid} is ${r.state}` : 'not an HA resource'));
      continue;
    }
    const balancer = hp.crs?.rebalances === true;
    out.push({
      id: 'proxmox-ha',
      status: balancer ? 'fail' : 'warn',
      scope: f.name,
      message: balancer
        ? `ct:${f.vmid} is an HA resource (${r.state}) and the cluster resource scheduler rebalances (crs: ${hp.crs?.raw ?? ''}): it can migrate the container mid-upgrade`
        : `ct:${f.vmid} is an HA resource (${r.state}): HA would move or restart it if ${f.host} or the container looked failed mid-upgrade`,
      fix: `pause HA for it during the upgrade: ha-manager set ct:${f.vmid} --state ignored (on ${f.host}); afterwards ha-manager set ct:${f.vmid} --state ${r.state}`,
    });
  }
  return out.length > 0 ? out : [pass('proxmox-ha', 'cluster', 'no container to upgrade')];
};

/** Two upgraders on one cluster fight: SUC's Plans, or Rancher, which owns the Plans of the clusters it manages. */
const otherUpgrader: Check = ({ probe }) => {
  const c = probe.cluster;
  const out: PreflightResult[] = [];
  if (c.rancher)
    out.push({
      id: 'upgrade-controller',
      status: 'fail',
      scope: 'cluster',
      message: "Rancher manages this cluster (cattle-cluster-agent runs in cattle-system): it owns the cluster's upgrades",
      fix: 'upgrade it from Rancher (Cluster Management > Edit Config > Kubernetes Version), not with pve-k3s',
    });
  if (c.sucPlans && c.sucPlans.length > 0)
    out.push({
      id: 'upgrade-controller',
      status: 'fail',
      scope: 'cluster',
      message: `system-upgrade-controller Plans would upgrade nodes too: ${c.sucPlans.join(', ')}`,
      fix: 'let SUC do the upgrade, or delete its Plans first (kubectl delete plans.upgrade.cattle.io -n <namespace> <name>)',
    });
  if (out.length === 0 && (c.sucPlans === undefined || c.rancher === undefined))
    out.push({
      id: 'upgrade-controller',
      status: 'warn',
      scope: 'cluster',
      message: `could not check for system-upgrade-controller or Rancher: ${c.error ?? 'no answer'}`,
    });
  const own = c.ownSucPlans ?? [];
  return out.length > 0
    ? out
    : [
        pass(
          'upgrade-controller',
          'cluster',
          own.length > 0
            ? `no other system-upgrade-controller Plan (pve-k3s's own: ${own.join(', ')}), no Rancher agent`
            : 'no system-upgrade-controller Plan, no Rancher agent',
        ),
      ];
};

/** The checks in the order they run and print. */
export const CHECKS: ReadonlyArray<{ id: string; what: string; run: Check }> = [
  { id: 'plan', what: 'the planner accepts the upgrade', run: plan },
  { id: 'container-running', what: "every node's container is running", run: containerRunning },
  { id: 'node-ready', what: 'every node is Ready', run: nodeReady },
  { id: 'container-lock', what: 'no Proxmox lock on a container', run: containerLock },
  { id: 'etcd-quorum', what: 'embedded etcd keeps quorum with one member down', run: etcdQuorum },
  { id: 'disk-space', what: 'room for the download (twice the k3s binary)', run: diskSpace },
  { id: 'snapshot-storage', what: 'storage that can snapshot, when --snapshot', run: snapshotStorage },
  { id: 'proxmox-ha', what: 'no Proxmox HA or load balancer can move a container mid-upgrade', run: proxmoxHa },
  { id: 'upgrade-controller', what: 'no system-upgrade-controller Plan or Rancher manages upgrades', run: otherUpgrader },
];
