/** The checks of the whole cluster: version skew, the upgrade journal, the nodes' clocks. */
import type { ClusterFacts } from '../domain/facts.js';
import { compareVersions } from '../domain/version.js';
import type { Inventory } from '../inventory/types.js';
import type { UpgradeState } from '../status/upgrade-state.js';
import { ok, type CheckResult, type HostProbe } from './types.js';

export function skewCheck(facts: ClusterFacts): CheckResult {
  const installed = [...new Set(facts.nodes.map((n) => n.installed?.raw).filter((v): v is string => typeof v === 'string'))];
  const servers = facts.nodes.filter((n) => n.role === 'server' && n.kube?.kubeletVersion).map((n) => n.kube!.kubeletVersion!);
  const oldestServer = servers.sort(compareVersions)[0];
  const tooNew = oldestServer
    ? facts.nodes.filter(
        (n) =>
          n.role === 'agent' &&
          n.kube?.kubeletVersion &&
          compareVersions(n.kube.kubeletVersion, oldestServer) > 0 &&
          n.kube.kubeletVersion.minor > oldestServer.minor,
      )
    : [];
  if (tooNew.length > 0) {
    return {
      check: 'version-skew',
      scope: 'cluster',
      status: 'fail',
      message: `kubelet newer than the apiserver (${oldestServer?.raw}) on ${tooNew.map((n) => n.name).join(', ')}`,
      cause:
        'workers were upgraded a minor version before the servers (the Kubernetes skew policy forbids a kubelet newer than its apiserver)',
      fix: 'upgrade the servers: pve-k3s upgrade --order servers-first',
    };
  }
  if (installed.length > 1) {
    return {
      check: 'version-skew',
      scope: 'cluster',
      status: 'warn',
      message: `nodes run different k3s versions: ${installed.join(', ')}`,
      cause: 'an upgrade did not finish, or nodes were installed at different times',
      fix: 'pve-k3s plan, then pve-k3s upgrade to bring every node to one version',
    };
  }
  return ok('version-skew', 'cluster', installed.length ? `every node runs ${installed[0]}` : 'no versions read');
}

export function journalCheck(u: UpgradeState): CheckResult {
  const op = u.operation ?? 'upgrade';
  if (op !== 'upgrade' && (u.inProgress || u.interrupted))
    return {
      check: 'upgrade-journal',
      scope: 'cluster',
      status: 'warn',
      message: u.inProgress ? `${op} ${u.run} started ${u.startedAt ?? ''} has no recorded end` : `the last ${op} (${u.run}) ${u.status}`,
      cause: u.inProgress ? `a ${op} is running now, or its process was killed mid-step` : 'a step failed or the run was stopped (Ctrl-C)',
      fix: `see pve-k3s status; run the ${op} again (every step can be repeated), or close it with pve-k3s abandon`,
    };
  if (u.inProgress)
    return {
      check: 'upgrade-journal',
      scope: 'cluster',
      status: 'warn',
      message: `upgrade ${u.run} to ${u.target ?? '?'} started ${u.startedAt ?? ''} has no recorded end`,
      cause: 'an upgrade is running now, or its process was killed mid-step',
      fix: 'if no upgrade is running, pve-k3s upgrade resumes it from the journal',
    };
  if (u.interrupted)
    return {
      check: 'upgrade-journal',
      scope: 'cluster',
      status: 'warn',
      message: `the last upgrade (${u.run} to ${u.target ?? '?'}) ${u.status}`,
      cause: 'a step failed or the run was stopped (Ctrl-C)',
      fix: 'fix what its output named, then pve-k3s upgrade to resume',
    };
  return ok('upgrade-journal', 'cluster', u.run ? `last upgrade ${u.run} ${u.status ?? ''}`.trim() : 'no upgrade recorded');
}

/** Largest clock difference between two nodes beyond what the round trips can explain. */
export function clockCheck(inv: Inventory, hosts: HostProbe[]): CheckResult {
  const offsets: Array<{ node: string; lo: number; hi: number }> = [];
  for (const hp of hosts) {
    for (const [node, p] of hp.nodes)
      if (p.clock !== undefined && inv.nodes.some((n) => n.name === node))
        offsets.push({ node, lo: p.clock - hp.t1 - 1, hi: p.clock - hp.t0 + 1 });
  }
  if (offsets.length < 2) return ok('clock', 'cluster', 'fewer than two clocks read');
  const ahead = offsets.reduce((a, b) => (b.lo > a.lo ? b : a));
  const behind = offsets.reduce((a, b) => (b.hi < a.hi ? b : a));
  const skew = Math.round(ahead.lo - behind.hi);
  return skew <= 5
    ? ok('clock', 'cluster', 'node clocks agree within the round trip')
    : {
        check: 'clock',
        scope: 'cluster',
        status: 'warn',
        message: `${ahead.node}'s clock is at least ${skew} s ahead of ${behind.node}'s`,
        cause:
          "containers use their host's clock: a Proxmox host without working NTP drifts; TLS certificates, tokens and etcd leases need agreeing clocks",
        fix: 'enable time sync on every Proxmox host (chrony is the Proxmox default): systemctl enable --now chrony; chronyc tracking',
      };
}
