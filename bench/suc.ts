/**
 * `npm run bench -- --suc [--nodes N] [--parallel 1,10] [--engines ssh,suc] [--rtt MS] [--pct MS]`: the SSH engine
 * against the system-upgrade-controller engine (`upgrade --engine suc`) on the lab: one server
 * and N-1 workers on 4 hosts, a patch upgrade, each engine at each concurrency. Measured: the
 * run's wall time (the lab's clock), the node work the lab performed, and the operator machine's
 * round trips (commands and session scripts sent to the Proxmox hosts) in all and per node.
 * Both go through the guarded operation (lease, run record, journal), as `pve-k3s upgrade` does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { initLab, openLab, renderLabInventory, installSucState } from '../src/lab/index.js';
import { parseInventory } from '../src/inventory/index.js';
import { CountingShell } from './counting-shell.js';
import type { ClusterConnection } from '../src/operation/connect.js';
import { planCluster } from '../src/upgrade/plan/plan-cluster.js';
import { executeUpgrade } from '../src/upgrade/run/upgrade-run.js';
import { executeSucUpgrade } from '../src/upgrade/suc/engine.js';

export interface SucBenchRow {
  engine: 'ssh' | 'suc';
  parallel: number;
  nodes: number;
  wallMs: number;
  workMs: number;
  roundTrips: number;
  roundTripsPerNode: number;
}

export async function sucBench(args: readonly string[]): Promise<SucBenchRow[]> {
  const flag = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
  };
  const nodes = Number(flag('--nodes', '200'));
  const parallels = flag('--parallel', '1,10').split(',').map(Number);
  const engines = flag('--engines', 'ssh,suc')
    .split(',')
    .filter((e): e is 'ssh' | 'suc' => e === 'ssh' || e === 'suc');
  const rtt = Number(flag('--rtt', '2'));
  const pct = Number(flag('--pct', '10'));
  // Node work as bench/run.ts: 1/50 of a real node's (drain ~10 s, install ~20 s, restart ~30 s).
  const work = { installMs: 400, restartMs: 600, drainPerPodMs: 40 };
  const rows: SucBenchRow[] = [];
  const log = (s: string) => process.stderr.write(s + '\n');
  for (const parallel of parallels) {
    for (const engine of engines) {
      const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-bench-suc-'));
      try {
        const created = await initLab({
          dir: join(dir, 'lab'),
          hosts: 4,
          servers: 1,
          workers: nodes - 1,
          version: 'v1.33.3+k3s1',
          timing: { ...work, sshRttMs: rtt, pctExecMs: pct },
        });
        const meter = { ms: 0 };
        const lab = await openLab(created.dir, { meter: (_k, ms) => (meter.ms += ms), exclusive: true });
        if (engine === 'suc') lab.update((s) => installSucState(s.clusters[s.cluster]!, lab.clock.now()));
        const invFile = join(dir, 'pve-k3s.yaml');
        const text = renderLabInventory(lab);
        writeFileSync(invFile, text);
        const parsed = parseInventory(text, invFile);
        const inventory = { ...parsed, upgrade: { ...parsed.upgrade, parallel } };
        const shells = lab.hosts().map((h) => new CountingShell(lab.shell(h)));
        const server = await lab.startChannelServer();
        const conn: ClusterConnection = {
          inventory,
          shells: new Map(shells.map((s) => [s.host, s])),
          channelUrl: server.url,
          clock: lab.clock,
          close: async () => server.close(),
        };
        try {
          // A pinned target: the in-process channel server may not answer in time while a 200-node lab is probed.
          const { plan } = await planCluster(conn, { version: 'v1.33.5+k3s1' });
          for (const s of shells) s.calls = 0;
          meter.ms = 0;
          const t = performance.now();
          const run = engine === 'suc' ? executeSucUpgrade : executeUpgrade;
          const r = await run(conn, plan, {
            env: { ...process.env, XDG_STATE_HOME: join(dir, 'state'), XDG_CACHE_HOME: join(dir, 'cache') },
            emit: () => {},
            order: 'auto',
            allowSkew: false,
            snapshot: { enabled: false, retention: 1 },
          });
          const wallMs = performance.now() - t;
          lab.settleWork();
          if (!r.ok) throw new Error(`${engine} bench run failed: ${r.failed?.error.message ?? 'stopped'}`);
          const roundTrips = shells.reduce((n, s) => n + s.calls, 0);
          const row = { engine, parallel, nodes, wallMs, workMs: meter.ms, roundTrips, roundTripsPerNode: roundTrips / nodes };
          rows.push(row);
          log(
            `${engine} --parallel ${parallel}, ${nodes} nodes: ${(wallMs / 1000).toFixed(1)} s, ${roundTrips} round trips (${row.roundTripsPerNode.toFixed(1)} per node)`,
          );
        } finally {
          await server.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const out = [
    `| engine | --parallel | nodes | wall time | round trips | per node |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...rows.map(
      (r) =>
        `| ${r.engine} | ${r.parallel} | ${r.nodes} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.roundTrips} | ${r.roundTripsPerNode.toFixed(1)} |`,
    ),
  ];
  process.stdout.write(out.join('\n') + '\n');
  return rows;
}
