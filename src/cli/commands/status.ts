/** `pve-k3s status`: one row per node, from one round trip per Proxmox host. */
import type { ClusterFacts, NodeFacts } from '../../core/facts.js';
import { PveK3sError } from '../../core/errors.js';
import { gatherFacts } from '../../facts/gather.js';
import { resolveTarget } from '../../app/target.js';
import { renderTable } from '../table.js';
import { out, printDocument, withSession, type GlobalOptions } from '../context.js';
import type { Session } from '../../app/session.js';

export interface StatusFlags {
  channel?: string;
  version?: string;
}

export const STATUS_API_VERSION = 'pve-k3s.io/v1';

export async function status(g: GlobalOptions, flags: StatusFlags): Promise<number> {
  return withSession(g, async (session) => {
    const inv = session.inventory;
    const [facts, target, lockRead] = await Promise.all([
      gatherFacts(inv, session.shells),
      resolveTarget({ version: flags.version ?? (flags.channel ? undefined : inv.k3s.version), channel: flags.channel ?? inv.k3s.channel, channelUrl: session.channelUrl }).then(
        (r) => ({ version: r.target.version.raw, source: r.target.source, error: undefined as string | undefined }),
        (err: unknown) => ({ version: undefined, source: undefined, error: err instanceof PveK3sError ? err.message : String(err) }),
      ),
      clusterLock(session),
    ]);
    const lock = facts.kubeError === undefined ? lockRead : undefined;
    const problems = [...Object.entries(facts.hostErrors).map(([h, e]) => `host ${h}: ${e}`), ...(facts.kubeError ? [`kubectl on ${facts.controller}: ${facts.kubeError}`] : [])];
    if (g.output !== 'table') {
      await printDocument(g, { ...statusDocument(facts, target), lock: lock ?? null });
    } else {
      out(renderStatus(facts, target.version));
      if (target.error) out(`warning: no target version: ${target.error}\n`);
      else out(`target: ${target.version} (${target.source})${g.verbose ? `, ${facts.roundTrips} round trip(s)` : ''}\n`);
      if (lock) out(`lock: upgrade lock held by ${lock.holder} since ${lock.since} (run ${lock.run}, expires ${lock.expires})\n`);
      for (const p of problems) out(`warning: ${p}\n`);
    }
    return problems.length > 0 ? 1 : 0;
  });
}

function cell(n: NodeFacts): { installed: string; kubelet: string; ready: string; sched: string } {
  const installed = n.installed === null ? 'not installed' : n.installed === undefined ? (n.container === 'running' ? 'unknown' : '-') : n.installed.raw;
  return {
    installed,
    kubelet: n.kube?.kubeletVersionRaw || '-',
    ready: n.kube === undefined ? '-' : n.kube.ready ? 'Ready' : 'NotReady',
    sched: n.kube === undefined ? '-' : n.kube.schedulable ? 'yes' : n.kube.cordonedByUs !== undefined ? 'no (pve-k3s)' : 'no',
  };
}

export function renderStatus(facts: ClusterFacts, target: string | undefined): string {
  const rows = facts.nodes.map((n) => {
    const c = cell(n);
    const t = target === undefined ? '?' : c.installed === target && c.kubelet === target ? 'up to date' : target;
    return [n.name, n.role, n.host, String(n.vmid), n.container + (n.lock ? ` (${n.lock})` : ''), c.installed, c.kubelet, c.ready, c.sched, t];
  });
  return renderTable(['NODE', 'ROLE', 'HOST', 'VMID', 'CONTAINER', 'INSTALLED', 'KUBELET', 'READY', 'SCHEDULABLE', 'TARGET'], rows);
}

export function statusDocument(facts: ClusterFacts, target: { version: string | undefined; source: string | undefined; error: string | undefined }) {
  return {
    apiVersion: STATUS_API_VERSION,
    kind: 'ClusterStatus',
    cluster: facts.cluster,
    controller: facts.controller,
    target: { version: target.version ?? null, source: target.source ?? null, error: target.error ?? null },
    nodes: facts.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      host: n.host,
      vmid: n.vmid,
      container: n.container,
      lock: n.lock ?? null,
      installed: n.installed === undefined ? null : n.installed === null ? 'none' : n.installed.raw,
      installedError: n.installedError ?? null,
      kubelet: n.kube?.kubeletVersionRaw ?? null,
      ready: n.kube?.ready ?? null,
      schedulable: n.kube?.schedulable ?? null,
      cordonedByPveK3s: n.kube?.cordonedByUs ?? null,
      upToDate: target.version !== undefined && n.installed?.raw === target.version && n.kube?.kubeletVersionRaw === target.version,
    })),
    problems: { hosts: facts.hostErrors, kubectl: facts.kubeError ?? null },
  };
}

/** The upgrade lock (held in the cluster, see src/runner/lock.ts), or undefined when free or unreadable. */
async function clusterLock(session: Session) {
  const inv = session.inventory;
  const ctrl = inv.nodes.find((n) => n.name === inv.controller);
  const shell = ctrl ? session.shells.get(ctrl.host) : undefined;
  if (!ctrl || !shell) return undefined;
  const [{ Kube }, { Pct }, { readLock }] = await Promise.all([import('../../kube/kube.js'), import('../../proxmox/pct.js'), import('../../runner/lock.js')]);
  return readLock(new Kube(new Pct(shell), ctrl.vmid, ctrl.name), ctrl.name).catch(() => undefined);
}
