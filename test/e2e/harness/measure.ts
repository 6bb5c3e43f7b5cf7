/**
 * What one call over the real-sh harness costs (a figure for docs/lab.md, not a test):
 * `node dist/test/e2e/harness/measure.js [dash|busybox] [runs]` starts the harness on a fresh
 * lab and prints the median wall time of an ssh session (`ssh <host> true`, the ForceCommand),
 * of `pct exec <vmid> -- true` and of `pct list` run on the host as a session's PATH finds them,
 * and of one kubectl call inside a container (`kubectl get nodes` in a loop, less the loop's
 * own `true`), with the load average. `--shims` measures `pct exec <vmid> -- true` of the lab's
 * shims instead (no real roots): installShims() of src/lab (a Node start per call) against
 * startLabShims() (lab-shim.ts, the daemon).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mkdirSync } from 'node:fs';
import { installShims } from '../../../src/lab/index.js';
import { labFixture } from '../../helpers/lab-cli.js';
import { startLabShims } from './lab-shim.js';
import { startRealShHosts, type RealShell } from './realsh.js';

const shims = process.argv.includes('--shims');
const words = process.argv.slice(2).filter((a) => a !== '--shims');
const shell = (words[0] ?? 'dash') as RealShell;
const runs = Number((shims ? words[0] : words[1]) ?? 10);

function time(file: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(file, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sample = (fn: () => number): number => {
  fn(); // warm-up (a container's root is made by the first call)
  return median(Array.from({ length: runs }, fn));
};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const print = (figures: Record<string, unknown>): void =>
  void process.stdout.write(`${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}\n`);

async function measureShims(): Promise<void> {
  const f = await labFixture({ hosts: 1, workers: 1, clock: 'real' });
  const nodeBin = join(f.dir, 'node-bin');
  const daemonBin = join(f.dir, 'daemon-bin');
  mkdirSync(daemonBin);
  installShims(f.lab, nodeBin, 'pve1');
  const daemon = await startLabShims(f.lab, { pve1: daemonBin });
  try {
    const at = load();
    const exec = (bin: string) => () => time(join(bin, 'pct'), ['exec', '100', '--', 'true'], process.env);
    print({ runs, load: at, nodeShimPctExecMs: sample(exec(nodeBin)), daemonShimPctExecMs: sample(exec(daemonBin)), loadAfter: load() });
  } finally {
    await daemon.stop();
    f.cleanup();
  }
}

async function main(): Promise<void> {
  const f = await labFixture({ hosts: 1, workers: 1, clock: 'real' });
  const hosts = await startRealShHosts(f.lab, shell);
  try {
    const h = hosts.sshd['pve1']!;
    const env = { ...process.env, PATH: `${h.binDir}:/usr/bin:/bin` };
    const pct = join(h.binDir, 'pct');
    const loop = (body: string) => `i=0; while [ $i -lt 5 ]; do ${body} >/dev/null || exit 1; i=$((i+1)); done`;
    const figures = {
      shell,
      runs,
      load: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
      sshTrueMs: sample(() => time('ssh', ['-F', h.configFile, h.alias, 'true'], env)),
      pctExecTrueMs: sample(() => time(pct, ['exec', '100', '--', 'true'], env)),
      pctListMs: sample(() => time(pct, ['list'], env)),
      kubectlMs:
        (sample(() => time(pct, ['exec', '100', '--', 'sh', '-c', loop('/usr/local/bin/kubectl get nodes')], env)) -
          sample(() => time(pct, ['exec', '100', '--', 'sh', '-c', loop('true')], env))) /
        5,
      loadAfter: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    };
    process.stdout.write(`${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}\n`);
  } finally {
    await hosts.stop();
    f.cleanup();
  }
}

(shims ? measureShims() : main()).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
