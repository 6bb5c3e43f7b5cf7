/**
 * `npm run bench`: pve-k3s's own cost, measured on the lab with injected latency.
 * For clusters of 3, 10, 50 (and with --full, 200) nodes over 1 to 4 Proxmox hosts:
 * the no-op run (round trips, wall time), plan time, and an upgrade's total time, the
 * simulated node work (drain, install, restart, as the lab performs it) and the overhead
 * (total minus node work). Also: plan for 1,000 nodes, the no-op run over a real OpenSSH
 * server on 127.0.0.1 at 10 nodes, and the CLI's cold start.
 * Options: --full (adds 200-node upgrade), --rtt MS, --pct MS, --json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { initLab, openLab, renderLabInventory, installShims, type Lab } from '../src/lab/index.js';
import { parseInventory } from '../src/inventory/index.js';
import type { Inventory } from '../src/inventory/types.js';
import { CountingShell } from './counting-shell.js';
import type { ClusterConnection } from '../src/operation/connect.js';
import { connectCluster } from '../src/operation/connect.js';
import { planCluster } from '../src/upgrade/plan/plan-cluster.js';
import { planUpgrade, DEFAULT_POLICY, type PlanOptions } from '../src/upgrade/plan/planner.js';
import { runPlan } from '../src/upgrade/run/run-plan.js';
import { parseVersion } from '../src/domain/version.js';
import type { ClusterFacts } from '../src/domain/facts.js';

const args = process.argv.slice(2);
// Over real sshd, side by side with the Ansible baseline and the floors (bench/compare.ts).
const SIDE_BY_SIDE = ['ansible', 'noop', 'upgrade', 'status'];
const onlyWord = args[args.indexOf('--only') + 1];
if (args.includes('--only') && onlyWord !== undefined && SIDE_BY_SIDE.includes(onlyWord)) {
  const { compare } = await import('./compare.js');
  await compare(args);
  process.exit(0);
}
// --suc: the SSH engine against `upgrade --engine suc` (bench/suc.ts).
if (args.includes('--suc')) {
  await (await import('./suc.js')).sucBench(args);
  process.exit(0);
}
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RTT = flag('--rtt', 2);
const PCT = flag('--pct', 10);
// Simulated node work, 1/50 of a real node's (drain ~10 s, install ~20 s, restart ~30 s).
const WORK = { installMs: 400, restartMs: 600, drainPerPodMs: 40 };
const SIZES: Array<[nodes: number, hosts: number]> = [
  [3, 1],
  [10, 2],
  [50, 3],
  [200, 4],
];
const UPGRADE_SIZES = args.includes('--full') ? [3, 10, 50, 200] : [3, 10, 50];
// --only N: just the rows of that node count (and skip the SSH and cold-start parts).
const ONLY = flag('--only', 0);

interface Bed {
  lab: Lab;
  inv: Inventory;
  conn: ClusterConnection;
  shells: CountingShell[];
  work: { drain: number; install: number; restart: number };
  close(): Promise<void>;
}

async function bed(nodes: number, hosts: number, version: string): Promise<Bed> {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-bench-'));
  const created = await initLab({
    dir,
    hosts,
    servers: 1,
    workers: nodes - 1,
    version,
    timing: { ...WORK, sshRttMs: RTT, pctExecMs: PCT },
  });
  const work = { drain: 0, install: 0, restart: 0 };
  // exclusive: the lab's state stays in memory (its persistence is not pve-k3s's cost).
  const lab = await openLab(created.dir, { meter: (k, ms) => (work[k] += ms), exclusive: true });
  const invFile = join(dir, 'pve-k3s.yaml');
  const text = renderLabInventory(lab);
  writeFileSync(invFile, text);
  const inv = parseInventory(text, invFile);
  const shells = lab.hosts().map((h) => new CountingShell(lab.shell(h)));
  const server = await lab.startChannelServer();
  const conn: ClusterConnection = {
    inventory: inv,
    shells: new Map(shells.map((s) => [s.host, s])),
    channelUrl: server.url,
    clock: lab.clock,
    close: async () => {
      await server.close();
    },
  };
  return {
    lab,
    inv,
    conn,
    shells,
    work,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const calls = (b: Bed) => b.shells.reduce((n, s) => n + s.calls, 0);
const reset = (b: Bed) => b.shells.forEach((s) => (s.calls = s.pctStarts = 0));
const pctStarts = (b: Bed) => b.shells.reduce((n, s) => n + s.pctStarts, 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function syntheticFacts(n: number, version: string): ClusterFacts {
  const v = parseVersion(version);
  return {
    cluster: 'bench',
    controller: 'server-1',
    kubeError: undefined,
    hostErrors: {},
    roundTrips: 0,
    nodes: Array.from({ length: n }, (_, i) => ({
      name: i < 3 ? `server-${i + 1}` : `agent-${i}`,
      vmid: 100 + i,
      host: `pve${(i % 8) + 1}`,
      role: i < 3 ? ('server' as const) : ('agent' as const),
      container: 'running' as const,
      lock: undefined,
      installed: v,
      installedError: undefined,
      kube: {
        ready: true,
        schedulable: true,
        kubeletVersion: v,
        kubeletVersionRaw: version,
        cordonedByUs: undefined,
        k3sRole: i < 3 ? ('server' as const) : ('agent' as const),
      },
    })),
  };
}

function timePlan(facts: ClusterFacts, target: string, channels?: PlanOptions['channels']): number {
  const t = { version: parseVersion(target), source: 'bench' };
  planUpgrade(facts, t, { ...DEFAULT_POLICY, channels }); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = performance.now();
    planUpgrade(facts, t, { ...DEFAULT_POLICY, channels });
    runs.push(performance.now() - s);
  }
  return median(runs);
}

interface Row {
  nodes: number;
  hosts: number;
  noopRoundTrips: number;
  noopRoundTripsPerHost: number;
  noopMs: number;
  planMs: number;
  upgrade?: { totalMs: number; workMs: number; overheadMs: number; overheadPct: number; roundTrips: number; pctStarts: number };
}

const TARGET = 'v1.33.5+k3s1';
const rows: Row[] = [];
const log = (s: string) => process.stderr.write(s + '\n');

for (const [nodes, hosts] of SIZES) {
  if (ONLY && nodes !== ONLY) continue;
  // No-op: every node already at the target.
  const b = await bed(nodes, hosts, TARGET);
  try {
    await planCluster(b.conn, {}); // warm-up (JIT, first HTTP connection)
    const times: number[] = [];
    let rt = 0;
    for (let i = 0; i < 3; i++) {
      reset(b);
      const s = performance.now();
      const { plan } = await planCluster(b.conn, {});
      times.push(performance.now() - s);
      rt = calls(b);
      if (plan.phases.length !== 0) throw new Error('no-op bench: the plan is not empty');
    }
    const { facts } = await planCluster(b.conn, {});
    // Plan time of a real plan: the same cluster two patches behind.
    const older = parseVersion('v1.33.3+k3s1');
    const behind: ClusterFacts = {
      ...facts,
      nodes: facts.nodes.map((n) => ({
        ...n,
        installed: older,
        kube: n.kube && { ...n.kube, kubeletVersion: older, kubeletVersionRaw: older.raw },
      })),
    };
    const row: Row = {
      nodes,
      hosts,
      noopRoundTrips: rt,
      noopRoundTripsPerHost: rt / hosts,
      noopMs: median(times),
      planMs: timePlan(behind, TARGET),
    };
    rows.push(row);
    log(`no-op ${nodes} nodes / ${hosts} hosts: ${rt} round trips, ${row.noopMs.toFixed(0)} ms`);
  } finally {
    await b.close();
  }
  if (!UPGRADE_SIZES.includes(nodes)) continue;
  const u = await bed(nodes, hosts, 'v1.33.3+k3s1');
  try {
    const { plan } = await planCluster(u.conn, {});
    reset(u);
    u.work.drain = u.work.install = u.work.restart = 0;
    const s = performance.now();
    const r = await runPlan(plan, { inventory: u.inv, shells: u.conn.shells });
    const totalMs = performance.now() - s;
    u.lab.settleWork();
    if (!r.ok) throw new Error(`upgrade bench failed: ${r.failed?.error.message}`);
    const workMs = u.work.drain + u.work.install + u.work.restart;
    const row = rows.at(-1)!;
    row.upgrade = {
      totalMs,
      workMs,
      overheadMs: totalMs - workMs,
      overheadPct: (100 * (totalMs - workMs)) / workMs,
      roundTrips: calls(u),
      pctStarts: pctStarts(u),
    };
    log(
      `upgrade ${nodes} nodes: ${(totalMs / 1000).toFixed(1)} s, work ${(workMs / 1000).toFixed(1)} s, overhead ${row.upgrade.overheadPct.toFixed(2)}%`,
    );
  } finally {
    await u.close();
  }
}

if (ONLY) {
  for (const r of rows) log(JSON.stringify(r));
} else {
  await extras();
}

async function extras(): Promise<void> {
  // Plan for 1,000 nodes: a patch upgrade of all of them.
  const plan1000Ms = timePlan(syntheticFacts(1000, 'v1.33.3+k3s1'), TARGET);
  log(`plan 1000 nodes: ${plan1000Ms.toFixed(1)} ms`);

  // The no-op run over a real OpenSSH server on 127.0.0.1, 10 nodes on 2 hosts.
  let sshNoop: { ms: number; roundTripsPerHost: number } | string;
  try {
    const { startSshd, sshdSkipReason } = await import('../test/e2e/harness/sshd.js');
    const skip = sshdSkipReason();
    if (skip) throw new Error(skip);
    const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-bench-ssh-'));
    const lab = await initLab({ dir: join(dir, 'lab'), hosts: 2, workers: 9, version: TARGET, timing: { ...WORK } });
    const sshds: Awaited<ReturnType<typeof startSshd>>[] = [];
    for (const h of ['pve1', 'pve2']) {
      const s = await startSshd({ alias: `${h}-bench` });
      installShims(lab, s.binDir, h);
      sshds.push(s);
    }
    const inv = parseInventory(
      renderLabInventory(lab).replace(/^  (pve\d): \{ lab: true \}$/gm, (_m, h: string) => {
        const s = sshds[h === 'pve1' ? 0 : 1]!;
        return `  ${h}: { ssh: ${s.alias}, sshConfig: ${s.configFile} }`;
      }),
      join(dir, 'pve-k3s.yaml'),
    );
    const conn = await connectCluster(inv);
    const counted = new Map([...conn.shells].map(([h, s]) => [h, new CountingShell(s)]));
    const countedConn: ClusterConnection = { ...conn, shells: counted };
    await planCluster(countedConn, {}); // opens the ssh masters
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      counted.forEach((c) => (c.calls = 0));
      const s = performance.now();
      await planCluster(countedConn, {});
      times.push(performance.now() - s);
    }
    const per = [...counted.values()].reduce((n, c) => n + c.calls, 0) / 2;
    sshNoop = { ms: median(times), roundTripsPerHost: per };
    await conn.close();
    for (const s of sshds) await s.stop();
    rmSync(dir, { recursive: true, force: true });
    log(`no-op over real sshd, 10 nodes: ${sshNoop.ms.toFixed(0)} ms, ${per} round trips per host`);
  } catch (err) {
    sshNoop = `skipped: ${(err as Error).message}`;
    log(`no-op over real sshd: ${sshNoop}`);
  }

  // Cold start of the CLI.
  const bin = new URL('../src/cli/bin.js', import.meta.url).pathname;
  function coldStart(argv: string[], n = 10): number {
    const ts: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const r = spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8' });
      ts.push(performance.now() - s);
      if (r.status !== 0) throw new Error(`pve-k3s ${argv.join(' ')} failed: ${r.stderr}`);
    }
    return median(ts);
  }
  const nodeBare = (() => {
    const ts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      ts.push(performance.now() - s);
    }
    return median(ts);
  })();
  const helpMs = coldStart(['--help']);
  log(`--help cold start: ${helpMs.toFixed(0)} ms (node -e 0: ${nodeBare.toFixed(0)} ms)`);
  // `status` from a cold process on the default lab (4 nodes, 2 hosts, no injected latency).
  const statusMs = await (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-bench-status-'));
    const lab = await initLab({ dir: join(dir, 'lab') });
    const inv = join(dir, 'pve-k3s.yaml');
    writeFileSync(inv, renderLabInventory(lab));
    try {
      return coldStart(['-c', inv, 'status']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  log(`status cold start (4-node lab): ${statusMs.toFixed(0)} ms`);

  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  if (args.includes('--json')) {
    process.stdout.write(
      JSON.stringify(
        { machine, rttMs: RTT, pctExecMs: PCT, work: WORK, rows, plan1000Ms, sshNoop, helpMs, statusMs, nodeBareMs: nodeBare },
        null,
        2,
      ) + '\n',
    );
  } else {
    const out: string[] = [];
    out.push(`machine: ${machine}`);
    out.push(
      `injected latency: ${RTT} ms per host command (SSH round trip), ${PCT} ms per pct exec; node work per node: drain ${WORK.drainPerPodMs} ms/pod, install ${WORK.installMs} ms, restart ${WORK.restartMs} ms`,
    );
    out.push('');
    out.push(
      '| nodes | hosts | no-op round trips (per host) | no-op wall | plan | upgrade total | node work | overhead | overhead % | upgrade round trips | pct starts |',
    );
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const u = r.upgrade;
      out.push(
        `| ${r.nodes} | ${r.hosts} | ${r.noopRoundTrips} (${r.noopRoundTripsPerHost}) | ${r.noopMs.toFixed(0)} ms | ${r.planMs.toFixed(2)} ms | ${u ? `${(u.totalMs / 1000).toFixed(1)} s` : '-'} | ${u ? `${(u.workMs / 1000).toFixed(1)} s` : '-'} | ${u ? `${(u.overheadMs / 1000).toFixed(2)} s` : '-'} | ${u ? `${u.overheadPct.toFixed(2)}%` : '-'} | ${u ? u.roundTrips : '-'} | ${u ? u.pctStarts : '-'} |`,
      );
    }
    out.push('');
    out.push(`plan for 1,000 nodes: ${plan1000Ms.toFixed(1)} ms`);
    out.push(
      `no-op over a real OpenSSH server on 127.0.0.1, 10 nodes on 2 hosts: ${typeof sshNoop === 'string' ? sshNoop : `${sshNoop.ms.toFixed(0)} ms, ${sshNoop.roundTripsPerHost} round trip(s) per host (after the SSH connection is up)`}`,
    );
    out.push(`pve-k3s --help cold start: ${helpMs.toFixed(0)} ms (bare node -e 0: ${nodeBare.toFixed(0)} ms)`);
    out.push(`pve-k3s status cold start on the 4-node lab: ${statusMs.toFixed(0)} ms`);
    process.stdout.write(out.join('\n') + '\n');
  }
}
