/** Every doctor check for every node, host and the cluster, in CHECKS order: pure functions of the facts and the probes. */
import type { ClusterFacts } from '../domain/facts.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { UpgradeState } from '../status/upgrade-state.js';
import { clockCheck, journalCheck, skewCheck } from './checks-cluster.js';
import { confChecks } from './checks-conf.js';
import { modulesCheck } from './checks-host.js';
import { insideChecks } from './checks-inside.js';
import { cordonCheck, zfsCheck } from './checks-node.js';
import { CHECKS, ok, type CheckResult, type HostProbe, type NodeView } from './types.js';

export interface DoctorInput {
  inv: Inventory;
  facts: ClusterFacts;
  hosts: HostProbe[];
  upgrade: UpgradeState;
  /** Only this node's checks (and its host's). */
  only?: string;
}

/** Every check for every node/host, in CHECKS order. Pure. */
export function runChecks(input: DoctorInput): CheckResult[] {
  const { inv, facts, hosts, upgrade } = input;
  const out: CheckResult[] = [];
  const nodes = inv.nodes.filter((n) => input.only === undefined || n.name === input.only);
  const probeOf = (h: string) => hosts.find((x) => x.host === h);
  const factOf = (n: NodeSpec) => facts.nodes.find((f) => f.name === n.name);
  for (const n of nodes) {
    const f = factOf(n);
    const hp = probeOf(n.host);
    const conf = hp?.confs.get(n.vmid);
    const np = hp?.nodes.get(n.name);
    const running = f?.container === 'running';
    out.push(
      running
        ? ok('container', n.name, `container ${n.vmid} on ${n.host} is running`)
        : {
            check: 'container',
            scope: n.name,
            status: 'fail',
            message: `container ${n.vmid} on ${n.host} is ${f?.container ?? 'unknown'}`,
            cause: hp?.error
              ? `host ${n.host} could not be probed: ${hp.error}`
              : 'the container is not running (stopped, or missing on that host)',
            fix: `pct start ${n.vmid} on ${n.host} (or correct the node's vmid/host in the inventory)`,
          },
    );
    const view: NodeView = { node: n, host: hp, conf, inside: np };
    out.push(...confChecks(view));
    if (!running || !np) {
      for (const c of ['kmsg', 'rshared', 'k3s-path', 'worker-role', 'disk'] as const)
        out.push({ check: c, scope: n.name, status: 'skip', message: 'container not running or not probed' });
    } else {
      out.push(...insideChecks(n, np, conf));
    }
    out.push(zfsCheck(view));
    out.push(cordonCheck(n, f, upgrade));
  }
  for (const hp of hosts) {
    if (input.only !== undefined && !nodes.some((n) => n.host === hp.host)) continue;
    out.push(modulesCheck(hp));
  }
  if (input.only === undefined) {
    out.push(skewCheck(facts));
    out.push(journalCheck(upgrade));
    out.push(clockCheck(inv, hosts));
  }
  const order = new Map<string, number>(CHECKS.map((c, i) => [c, i]));
  return out.sort((a, b) => (order.get(a.check) ?? 99) - (order.get(b.check) ?? 99));
}
