/** `pve-k3s status`: one row per node, from one round trip per Proxmox host. */
import type { ClusterFacts, NodeFacts } from '../../domain/facts.js';
import { DOCUMENT_API_VERSION, type ClusterStatusDocument } from '../../domain/documents.js';
import { PveK3sError, RunError, UsageError } from '../../domain/errors.js';
import { gatherFacts } from '../../upgrade/facts/gather.js';
import { ProbedKube } from '../../upgrade/facts/probed-kube.js';
import { relocationWarnings } from '../../upgrade/facts/locate.js';
import { afterProbeSpawns, resolveTarget } from '../../upgrade/plan/target.js';
import { renderTable } from '../table.js';
import { inventorySource, out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import type { ClusterConnection } from '../../operation/connect.js';

export interface StatusFlags {
  channel?: string;
  version?: string;
  /** One Nagios-style line; exit 0 ok, 1 warning, 2 critical. */
  check?: boolean;
  /** Refresh every N seconds (true = 5). */
  watch?: string | boolean;
  /** With --watch: stop after this many refreshes. */
  iterations?: string;
}

export async function status(g: GlobalOptions, flags: StatusFlags): Promise<number> {
  if (flags.watch === undefined || flags.watch === false) return withCluster(g, (conn) => statusOnce(g, flags, conn));
  const seconds = flags.watch === true ? 5 : Number(flags.watch);
  const max = flags.iterations === undefined ? Infinity : Number(flags.iterations);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--watch takes a number of seconds, got "${String(flags.watch)}"`);
  if (!(max >= 1)) throw new UsageError(`--iterations must be at least 1, got "${String(flags.iterations)}"`);
  const stop = new AbortController();
  const onSig = () => stop.abort();
  process.once('SIGINT', onSig);
  try {
    return await withCluster(g, async (conn) => {
      let code = 0;
      for (let i = 0; i < max && !stop.signal.aborted; i++) {
        if (process.stdout.isTTY && g.output === 'table' && !flags.check) out('\x1b[H\x1b[2J');
        code = await statusOnce(g, flags, conn);
        if (g.output === 'table' && !flags.check) out(`(every ${seconds}s, ${new Date().toISOString()}; Ctrl-C to stop)\n`);
        if (i + 1 < max)
          await new Promise<void>((res) => {
            const t = setTimeout(res, seconds * 1000);
            stop.signal.addEventListener(
              'abort',
              () => {
                clearTimeout(t);
                res();
              },
              { once: true },
            );
          });
      }
      return stop.signal.aborted ? 0 : code;
    });
  } finally {
    process.off('SIGINT', onSig);
  }
}

async function statusOnce(g: GlobalOptions, flags: StatusFlags, conn: ClusterConnection): Promise<number> {
  {
    const inv = conn.inventory;
    // The probe first; the channel fetch once its ssh processes have started (afterProbeSpawns).
    const probed = factsAndClusterState(conn);
    probed.catch(() => undefined); // awaited below; a rejection meanwhile is not unhandled
    const spawned = afterProbeSpawns();
    // Loaded while the probe runs, not after it.
    void spawned.then(() => healthModules()).catch(() => undefined);
    const [[facts, stRead], target] = await Promise.all([
      probed,
      spawned
        .then(() =>
          resolveTarget({
            version: flags.version ?? (flags.channel ? undefined : inv.k3s.version),
            channel: flags.channel ?? inv.k3s.channel,
            channelUrl: conn.channelUrl,
          }),
        )
        .then(
          (r) => ({ version: r.target.version.raw, source: r.target.source, error: undefined as string | undefined }),
          (err: unknown) => ({ version: undefined, source: undefined, error: err instanceof PveK3sError ? err.message : String(err) }),
        ),
    ]);
    const st = facts.kubeError === undefined ? stRead : undefined;
    const busy =
      st !== undefined &&
      (st.view.live || st.record?.state === 'running' || (st.legacy !== undefined && Date.parse(st.legacy.expires) > st.now));
    const health = await clusterHealth(conn, facts, busy);
    if (flags.check) {
      const { checkLine } = await import('../../status/cluster-health.js');
      const c = checkLine(inv.cluster, health);
      out(`${c.line}\n`);
      return c.code;
    }
    const problems = [
      ...Object.entries(facts.hostErrors).map(([h, e]) => `host ${h}: ${e}`),
      ...(facts.kubeError ? [`kubectl on ${facts.controller}: ${facts.kubeError}`] : []),
    ];
    if (g.output !== 'table') {
      const held = new Set(inv.nodes.filter((n) => n.upgrade === false).map((n) => n.name));
      const doc = statusDocument(facts, target);
      await printDocument(g, {
        ...doc,
        nodes: doc.nodes.map((n) => ({ ...n, upgrade: !held.has(n.name) })),
        inventory: { file: inv.file, from: inventorySource(g) },
        lock: st?.legacy ?? null,
        lease: st?.view.lease
          ? {
              name: st.lease.where,
              holder: st.view.holderIdentity ?? null,
              renewTime: st.view.lease.spec.renewTime ?? null,
              expires: st.view.expiresAt !== undefined ? new Date(st.view.expiresAt).toISOString() : null,
              live: st.view.live,
              expired: st.view.expired,
            }
          : null,
        operation: st?.record ?? null,
        health: {
          status: health.severity,
          problems: health.items,
          lastBackup: health.lastBackup === undefined ? null : new Date(health.lastBackup).toISOString(),
          backup: backupDocument(health.backup),
          upgradeInProgress: health.upgradeInProgress,
        },
      });
    } else {
      out(renderStatus(facts, target.version));
      if (target.error) out(`warning: no target version: ${target.error}\n`);
      else out(`target: ${target.version} (${target.source})${g.verbose ? `, ${facts.roundTrips} round trip(s)` : ''}\n`);
      out(`inventory: ${inv.file} (${FROM[inventorySource(g)]})\n`);
      if (st) out(await leaseLines(st, await interruptedWhy(conn, st)));
      const held = inv.nodes.filter((n) => n.upgrade === false).map((n) => n.name);
      if (held.length > 0) out(`held back (upgrade: false): ${held.join(', ')}\n`);
      for (const p of problems) out(`warning: ${p}\n`);
      for (const w of relocationWarnings(facts, inv.file)) out(w);
      out(renderHealth(health));
    }
    return problems.length > 0 ? 1 : 0;
  }
}

const FROM = { '-c': 'from -c', $PVE_K3S_CONFIG: 'from $PVE_K3S_CONFIG', search: 'found' } as const;

/** The health summary under the table. */
export function renderHealth(h: import('../../status/cluster-health.js').Health, now = Date.now()): string {
  const backup = h.lastBackup === undefined ? 'none' : `${new Date(h.lastBackup).toISOString()} (${ageText(now - h.lastBackup)} ago)`;
  const lines = [`health: ${h.severity.toUpperCase()} (${h.ready}/${h.nodes} Ready; last backup: ${backup})`];
  for (const i of h.items) lines.push(`  ${i.severity}: ${i.text}`);
  const b = h.backup;
  if (b.schedule)
    lines.push(
      `backup schedule: ${b.schedule.every} on ${b.schedule.on}, ${b.schedule.retention}; next run ${b.schedule.next === undefined ? 'unknown' : `${new Date(b.schedule.next).toISOString()} (in ${ageText(b.schedule.next - now)})`}`,
    );
  return lines.join('\n') + '\n';
}

function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

/** Health from the facts, the backup record and schedule, and the upgrade journal. */
type HealthModules = [
  typeof import('../../status/cluster-health.js'),
  typeof import('../../status/upgrade-state.js'),
  typeof import('../../backup/store.js'),
  typeof import('../../inventory/paths.js'),
  typeof import('../../status/backup-state.js'),
];
let healthLoading: Promise<HealthModules> | undefined;

/** What clusterHealth needs, loaded once: status asks for it while its probe runs (the process waits on the network then). */
function healthModules(): Promise<HealthModules> {
  return (healthLoading ??= Promise.all([
    import('../../status/cluster-health.js'),
    import('../../status/upgrade-state.js'),
    import('../../backup/store.js'),
    import('../../inventory/paths.js'),
    import('../../status/backup-state.js'),
  ]));
}

export async function clusterHealth(conn: ClusterConnection, facts: ClusterFacts, locked: boolean) {
  const [{ assessHealth }, { upgradeState }, { lastBackupTime, defaultBackupRoot }, { stateDir }, { readBackupState }] =
    await healthModules();
  const dir = stateDir(process.env);
  const cluster = conn.inventory.cluster;
  const up = upgradeState(dir, cluster, facts);
  if (locked) up.inProgress = true;
  const localRoot = defaultBackupRoot(dir, cluster);
  const backup = await readBackupState({
    stateDirectory: dir,
    cluster,
    localRoot,
    newestLocal: lastBackupTime(localRoot, cluster),
    readRemote: async (host, path) => {
      const shell = conn.shells.get(host);
      if (!shell)
        throw new RunError(`${host} is not a host of the inventory any more`, {
          hint: 'pve-k3s backup schedule remove --on <host>, then schedule it again',
        });
      const r = await shell.run(['cat', path], { timeoutMs: 30_000 });
      return r.code === 0 ? r.stdout : undefined;
    },
  });
  return assessHealth({ facts, backup, upgrade: up });
}

function backupDocument(b: import('../../status/backup-state.js').BackupState) {
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
  return {
    lastSuccess: iso(b.lastSuccess),
    lastSizeBytes: b.lastSizeBytes ?? null,
    lastRun: b.lastRun ? { at: iso(b.lastRun.at), ok: b.lastRun.ok, error: b.lastRun.error ?? null } : null,
    schedule: b.schedule
      ? {
          every: b.schedule.every,
          onCalendar: b.schedule.onCalendar,
          on: b.schedule.on,
          retention: b.schedule.retention,
          intervalSeconds: b.schedule.intervalMs === undefined ? null : b.schedule.intervalMs / 1000,
          nextRun: iso(b.schedule.next),
        }
      : null,
  };
}

function cell(n: NodeFacts): { installed: string; kubelet: string; ready: string; sched: string } {
  const installed =
    n.installed === null ? 'not installed' : n.installed === undefined ? (n.container === 'running' ? 'unknown' : '-') : n.installed.raw;
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
    return [
      n.name,
      n.role,
      n.host,
      String(n.vmid),
      n.container + (n.lock ? ` (${n.lock})` : ''),
      c.installed,
      c.kubelet,
      c.ready,
      c.sched,
      t,
    ];
  });
  return renderTable(['NODE', 'ROLE', 'HOST', 'VMID', 'CONTAINER', 'INSTALLED', 'KUBELET', 'READY', 'SCHEDULABLE', 'TARGET'], rows);
}

export function statusDocument(
  facts: ClusterFacts,
  target: { version: string | undefined; source: string | undefined; error: string | undefined },
): ClusterStatusDocument {
  return {
    apiVersion: DOCUMENT_API_VERSION,
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

/**
 * The facts, and the cluster lease with its run record and an old annotation lock
 * (src/operation/guard.ts; undefined when unreadable), read in the facts probe's one request per
 * host: the lease's reads ride in the controller's `pct exec` (ProbedKube).
 */
export async function factsAndClusterState(conn: ClusterConnection) {
  // The modules status reads with, not guard.js (which also holds and writes).
  const [{ guardEnvFor, kubeFor }, { readClusterState }] = await Promise.all([
    import('../../operation/guard-spec.js'),
    import('../../operation/takeover.js'),
  ]);
  const env = guardEnvFor(conn, process.env);
  let kube: ProbedKube;
  try {
    kube = new ProbedKube(kubeFor(env));
  } catch {
    return [await gatherFacts(conn.inventory, conn.shells), undefined] as const;
  }
  const st = readClusterState(env, kube).catch(() => undefined);
  const asked = await Promise.race([kube.asked, st.then(() => undefined)]);
  const facts = gatherFacts(conn.inventory, conn.shells, asked ? { controllerReads: kube.reads(asked) } : {}).finally(() => kube.release());
  return [await facts, await st] as const;
}

/** Why the run the cluster's record shows has stopped without ending ('its process is gone', its lease expired), or undefined. */
async function interruptedWhy(conn: ClusterConnection, st: import('../../operation/guard.js').ClusterState): Promise<string | undefined> {
  const { guardEnvFor, interruptedRun } = await import('../../operation/guard.js');
  const { localIdentity } = await import('../../operation/lease.js');
  const r = interruptedRun(st, guardEnvFor(conn, process.env), localIdentity());
  if (!r) return undefined;
  const hms = (ms: number) => new Date(ms).toTimeString().slice(0, 8);
  if (!st.view.holderIdentity) return 'its lease is released';
  return st.view.expired ? `its lease expired at ${hms(st.view.expiresAt ?? st.now)}` : 'its process is gone';
}

/** What `status` says of the operation holding (or last holding) the cluster; `stopped` says why a run in the record is not running. */
export async function leaseLines(st: import('../../operation/guard.js').ClusterState, stopped?: string): Promise<string> {
  const { inProgressText, stepText, clock } = await import('../../operation/run-record.js');
  const lines: string[] = [];
  const hms = (ms: number) => new Date(ms).toTimeString().slice(0, 8);
  if (st.legacy)
    lines.push(
      `lock: upgrade lock held by ${st.legacy.holder} since ${st.legacy.since} (run ${st.legacy.run}, expires ${st.legacy.expires}; an older pve-k3s's annotation lock)`,
    );
  const r = st.record;
  const v = st.view;
  const ours = r !== undefined && (v.holder === undefined || v.holder.run === r.run);
  if (r && ours && r.state === 'running' && stopped !== undefined) {
    lines.push(
      `${r.operation} interrupted: ${stepText(r)}${r.inFlight.length ? ' was in flight' : ''}, by ${r.by} since ${clock(r.startedAt, st.now)}; ${stopped} (${r.operation === 'upgrade' ? 'pve-k3s resume continues it' : `run ${r.operation} again`}, pve-k3s abandon forgets it)`,
    );
  } else if (v.live) {
    lines.push(ours ? inProgressText(r, st.now) : `lease ${st.lease.where} held by ${v.holderIdentity}`);
    lines.push(
      `  lease ${st.lease.where}: ${v.holderIdentity}${v.renewedAt !== undefined ? `, renewed ${hms(v.renewedAt)}` : ''}${v.expiresAt !== undefined ? `, expires ${hms(v.expiresAt)}` : ''}`,
    );
  } else if (r && (r.state === 'failed' || r.state === 'stopped')) {
    lines.push(
      `last ${r.operation} ${r.state}: ${stepText(r)}, by ${r.by} since ${clock(r.startedAt, st.now)}${r.operation === 'upgrade' ? ' (pve-k3s resume continues it)' : ''}`,
    );
  }
  return lines.map((l) => `${l}\n`).join('');
}
