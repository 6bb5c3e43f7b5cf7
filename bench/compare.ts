/**
 * pve-k3s side by side with what users run today and with the limit, over a REAL OpenSSH server
 * on 127.0.0.1 per Proxmox host (test/e2e/harness), whose `pct` reaches the embedded lab:
 * - no-op (every node at the target): a cold `pve-k3s upgrade --yes` process (no master left), the
 *   Ansible baseline (bench/ansible/upgrade.yml, ansible-core, forks 10, cold ssh), and the floor:
 *   one cold ssh connection per host running the same probe scripts pve-k3s sends, by hand;
 * - upgrade (every node a patch behind, a 3 s NotReady window per restart): pve-k3s against the
 *   Ansible baseline, and the lab's metered node work for the same upgrade (the floor);
 * - `pve-k3s status` with a master persisted by an earlier command against the probe script's own
 *   time over that master.
 * Runs alternate (pve-k3s, Ansible, floor, then the next round in another order); the load
 * average is recorded beside each figure. The harness's `pct` start-up cost is a knob
 * (test/e2e/harness/pct-cost.ts): the no-op is measured at each --pct-costs value.
 *
 * `npm run bench -- --only ansible|noop|upgrade|status [--nodes 3,10] [--upgrade-nodes 3,10] [--runs 2] [--upgrade-runs N]
 *   [--pct-costs 0,0.35] [--upgrade-pct-cost 0.35] [--json]`
 * (`ansible` = all three parts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { initLab, installShims, openLab, renderLabInventory, type Lab } from '../src/lab/index.js';
import { parseInventory } from '../src/inventory/index.js';
import type { Inventory } from '../src/inventory/types.js';
import type { RunOptions, RunResult, Shell } from '../src/shell/shell.js';
import { SshShell } from '../src/shell/ssh-shell.js';
import { factsAndClusterState as statusProbe } from '../src/cli/commands/status.js';
import { planCluster } from '../src/upgrade/plan/plan-cluster.js';
import { runPlan } from '../src/upgrade/run/run-plan.js';
import type { ClusterConnection } from '../src/operation/connect.js';
import { startSshd, sshdSkipReason, type SshdHarness } from '../test/e2e/harness/sshd.js';
import { setPctCost, wrapPct } from '../test/e2e/harness/pct-cost.js';
import { realShSkipReason, startRealShHosts } from '../test/e2e/harness/realsh.js';

const FROM = 'v1.33.3+k3s1';
const TARGET = 'v1.33.5+k3s1';
/** Node work of the upgrade: a 3 s NotReady window per restart, a short download, drain per pod. */
const UPGRADE_WORK = { installMs: 400, restartMs: 3000, drainPerPodMs: 40 };
const NOOP_WORK = { installMs: 400, restartMs: 600, drainPerPodMs: 40 };
const HOSTS_FOR: Record<number, number> = { 3: 1, 10: 2, 50: 3 };
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'dist', 'src', 'cli', 'bin.js');
const PLAYBOOK = join(ROOT, 'bench', 'ansible', 'upgrade.yml');
const log = (s: string): void => void process.stderr.write(s + '\n');

interface Options {
  parts: Set<'noop' | 'upgrade' | 'status'>;
  nodes: number[];
  upgradeNodes: number[];
  runs: number;
  upgradeRuns: number;
  pctCosts: number[];
  upgradePctCost: number;
  json: boolean;
  /** Skip the Ansible baseline (quick iterations on pve-k3s and its floors). */
  noAnsible: boolean;
  /** Print where each pve-k3s upgrade's time went, from its journal. */
  steps: boolean;
  harness: Harness;
  /** Keep the first no-op bed up, print how to reach it, and wait for Ctrl-C (to poke at it by hand). */
  hold: boolean;
}

function options(args: string[]): Options {
  const val = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const nums = (name: string, dflt: number[]): number[] => {
    const v = val(name);
    if (v === undefined) return dflt;
    const xs = v.split(',').map(Number);
    if (xs.some((x) => !(x >= 0))) throw new Error(`${name} takes numbers separated by commas, got "${v}"`);
    return xs;
  };
  const only = val('--only') ?? 'ansible';
  if (!['ansible', 'noop', 'upgrade', 'status'].includes(only)) throw new Error(`--only ${only}: say ansible, noop, upgrade or status`);
  const parts = new Set<'noop' | 'upgrade' | 'status'>(only === 'ansible' ? ['noop', 'upgrade', 'status'] : [only as 'noop']);
  const nodes = nums('--nodes', [3, 10]);
  for (const n of nodes)
    if (HOSTS_FOR[n] === undefined) throw new Error(`--nodes: ${n} is not one of ${Object.keys(HOSTS_FOR).join(', ')}`);
  return {
    parts,
    nodes,
    upgradeNodes: nums(
      '--upgrade-nodes',
      nodes.filter((n) => n <= 10),
    ),
    runs: Number(val('--runs') ?? 2),
    upgradeRuns: Number(val('--upgrade-runs') ?? val('--runs') ?? 2),
    pctCosts: nums('--pct-costs', [0, 0.35]),
    upgradePctCost: Number(val('--upgrade-pct-cost') ?? 0.35),
    json: args.includes('--json'),
    noAnsible: args.includes('--no-ansible'),
    steps: args.includes('--steps'),
    harness: harnessOf(val('--harness')),
    hold: args.includes('--hold'),
  };
}

function harnessOf(v: string | undefined): Harness {
  if (v !== undefined && v !== 'realsh' && v !== 'lab') throw new Error(`--harness ${v}: say realsh or lab`);
  if (v === 'lab') return 'lab';
  const skip = realShSkipReason();
  if (skip === undefined) return 'realsh';
  if (v === 'realsh') throw new Error(`--harness realsh: ${skip}`);
  log(`real-sh hosts unavailable (${skip}): the lab's shims instead (--harness lab)`);
  return 'lab';
}

/** A measured wall time with the 1-minute load average when it ended. */
interface Sample {
  ms: number;
  load: number;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const med = (s: Sample[]): number => median(s.map((x) => x.ms));
const loadOf = (s: Sample[]): number => s.reduce((a, x) => a + x.load, 0) / Math.max(1, s.length);

async function timed(fn: () => Promise<void>): Promise<Sample> {
  const t = performance.now();
  await fn();
  return { ms: performance.now() - t, load: loadavg()[0] ?? 0 };
}

function exec(file: string, args: string[], o: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(o.input ?? '');
  });
}

/**
 * Which hosts the bench runs on: `realsh` (test/e2e/harness/realsh.ts: host and container
 * scripts in a real dash, containers in their own roots, the lab's programs served by one
 * long-lived daemon through a Perl client, so a call costs a Perl start) or `lab` (the lab's
 * own shims: a Node process per `pct` call).
 */
type Harness = 'realsh' | 'lab';

/** Proxmox hosts as real sshd servers, their `pct` with a start-up cost (test/e2e/harness/pct-cost.ts). */
class Hosts {
  private constructor(
    readonly sshds: Map<string, SshdHarness>,
    private readonly stopAll?: () => Promise<void>,
  ) {}
  /** `lab` hosts, shared by the labs of one size (attach() points them at one). */
  static async start(n: number): Promise<Hosts> {
    const m = new Map<string, SshdHarness>();
    for (let i = 1; i <= n; i++) m.set(`pve${i}`, await startSshd({ alias: `pve${i}-bench` }));
    return new Hosts(m);
  }
  /** `realsh` hosts for this lab (started per lab). */
  static async realsh(lab: Lab, pctCost: number): Promise<Hosts> {
    const rs = await startRealShHosts(lab, 'dash');
    const m = new Map(Object.entries(rs.sshd));
    for (const h of m.values()) wrapPct(h.binDir, pctCost);
    return new Hosts(m, () => rs.stop());
  }
  /** Points every host's pct at this lab (the cost knob kept). */
  attach(lab: Lab, pctCost: number): void {
    for (const [name, h] of this.sshds) {
      installShims(lab, h.binDir, name);
      wrapPct(h.binDir, pctCost);
    }
  }
  setCost(seconds: number): void {
    for (const h of this.sshds.values()) setPctCost(h.binDir, seconds);
  }
  /** Ends the masters earlier pve-k3s commands left (so the next one starts cold). */
  async coldStart(): Promise<void> {
    await Promise.all(
      [...this.sshds.values()].map((h) => new SshShell({ host: h.alias, destination: h.alias, configFile: h.configFile }).stopMaster()),
    );
  }
  async stop(): Promise<void> {
    for (const h of this.sshds.values()) {
      await new SshShell({ host: h.alias, destination: h.alias, configFile: h.configFile }).stopMaster();
      if (!this.stopAll) await h.stop();
    }
    await this.stopAll?.();
  }
}

/** One lab behind the hosts, with the pve-k3s and Ansible inventories for it. */
interface Bed {
  lab: Lab;
  hosts: Hosts;
  dir: string;
  inventory: Inventory;
  invFile: string;
  ansibleInv: string;
  ansibleVars: string;
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

async function newBed(o: {
  /** `lab` hosts to attach (shared by the beds of one size); realsh hosts are started per bed. */
  shared: Hosts | undefined;
  hostCount: number;
  nodes: number;
  version: string;
  timing: typeof UPGRADE_WORK;
  pctCost: number;
  channelUrl: string;
}): Promise<Bed> {
  const { nodes, version, timing, pctCost, channelUrl } = o;
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-cmp-'));
  const lab = await initLab({ dir: join(dir, 'lab'), hosts: o.hostCount, servers: 1, workers: nodes - 1, version, timing });
  if (o.shared) o.shared.attach(lab, pctCost);
  const hosts = o.shared ?? (await Hosts.realsh(lab, pctCost));
  // Untimed: the hosts' first calls make each container's root (realsh), which no later run pays.
  const warm = await Promise.all(
    lab.hosts().map(async (h) => {
      const s = hosts.sshds.get(h)!;
      const vmids = lab.state.hosts.find((x) => x.name === h)?.containers.map((c) => c.vmid) ?? [];
      const script = vmids.map((v) => `pct exec ${v} -- true </dev/null &\n`).join('') + 'wait\n';
      return exec('ssh', ['-F', s.configFile, '-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-T', s.alias, '--', 'sh', '-s'], {
        input: script,
      });
    }),
  );
  for (const r of warm) if (r.code !== 0) throw new Error(`warming the hosts failed (exit ${r.code}): ${r.stderr}`);
  const text = renderLabInventory(lab)
    .replace(/^ {2}(pve\d+): \{ lab: true \}$/gm, (_m, h: string) => {
      const s = hosts.sshds.get(h)!;
      return `  ${h}: { ssh: ${s.alias}, sshConfig: ${s.configFile} }`;
    })
    .replace(/^ {2}channelUrl: lab.*$/m, `  channelUrl: ${channelUrl}`)
    .replace(/^lab:\n {2}dir: .*\n?/m, '');
  const invFile = join(dir, 'pve-k3s.yaml');
  writeFileSync(invFile, text);
  const inventory = parseInventory(text, invFile);
  const agent = inventory.nodes.find((n) => n.role === 'agent');
  const envText = agent
    ? (await lab.shell(agent.host).run(['pct', 'exec', String(agent.vmid), '--', 'cat', '/etc/systemd/system/k3s-agent.service.env']))
        .stdout
    : '';
  const k3sUrl = /^K3S_URL='?([^'\n]+)/m.exec(envText)?.[1] ?? `https://127.0.0.1:6443`;
  const host = (name: string) => {
    const s = hosts.sshds.get(name)!;
    return { ansible_host: s.alias, ansible_ssh_common_args: `-F ${s.configFile}` };
  };
  const group = (role: 'server' | 'agent') =>
    Object.fromEntries(inventory.nodes.filter((n) => n.role === role).map((n) => [n.name, { vmid: n.vmid, pve_host: n.host }]));
  const ansibleInv = join(dir, 'ansible-inventory.json');
  writeFileSync(
    ansibleInv,
    JSON.stringify({
      all: {
        children: {
          proxmox: { hosts: Object.fromEntries([...hosts.sshds.keys()].map((h) => [h, host(h)])) },
          k3s_nodes: { children: { k3s_servers: { hosts: group('server') }, k3s_agents: { hosts: group('agent') } } },
        },
      },
    }),
  );
  const ansibleVars = join(dir, 'ansible-vars.json');
  writeFileSync(ansibleVars, JSON.stringify({ channel_url: channelUrl, k3s_url: k3sUrl, k3s_token: lab.state.token }), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  delete env['PVE_K3S_CONFIG'];
  const remove = async (): Promise<void> => {
    if (!o.shared) await hosts.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { lab, hosts, dir, inventory, invFile, ansibleInv, ansibleVars, env, remove };
}

/** --cpu-prof DIR: every pve-k3s process writes a V8 CPU profile there (open it in Chrome's DevTools). */
let cpuProfDir: string | undefined;

async function pveK3s(bed: Bed, argv: string[], expect: RegExp): Promise<void> {
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const r = await exec(process.execPath, [...prof, BIN, '-c', bed.invFile, ...argv], { env: bed.env });
  if (r.code !== 0 || !expect.test(r.stdout))
    throw new Error(`pve-k3s ${argv.join(' ')} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** --hold: the bed stays up until SIGINT or SIGTERM; the lines printed run pve-k3s and the probe against it. */
async function hold(bed: Bed): Promise<void> {
  const env = ['XDG_STATE_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'].map((k) => `${k}=${bed.env[k] ?? ''}`).join(' ');
  log(`bed up (${bed.inventory.nodes.length} nodes): env ${env} node ${BIN} -c ${bed.invFile} status`);
  log('Ctrl-C (SIGINT) or SIGTERM ends it');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** One cold ansible-playbook run (a fresh ControlPath dir), timed without the clean-up of its masters. */
async function ansible(bed: Bed, time: (fn: () => Promise<void>) => Promise<void>): Promise<void> {
  const cp = mkdtempSync('/tmp/pk-ans-');
  try {
    await time(async () => {
      const r = await exec('ansible-playbook', ['-i', bed.ansibleInv, PLAYBOOK, '-e', `@${bed.ansibleVars}`, '-f', '10'], {
        env: {
          ...process.env,
          ANSIBLE_SSH_CONTROL_PATH_DIR: cp,
          // The real-sh hosts' home is read-only (this machine's, as their root); /tmp is theirs.
          ANSIBLE_REMOTE_TMP: join(cp, 'remote'),
          ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_LOCALHOST_WARNING: 'false',
          ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
        },
      });
      if (r.code !== 0) throw new Error(`ansible-playbook failed (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    });
  } finally {
    for (const s of readdirSync(cp)) spawnSync('ssh', ['-o', `ControlPath=${join(cp, s)}`, '-O', 'exit', 'x'], { stdio: 'ignore' });
    rmSync(cp, { recursive: true, force: true });
  }
}

/** Records the scripts pve-k3s sends (`sh -s` on each host), running them on the lab in-process. */
class Recorder implements Shell {
  scripts: string[] = [];
  constructor(readonly inner: Shell) {}
  get host(): string {
    return this.inner.host;
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    // A floor that left out a request would flatter pve-k3s: every request is a script.
    if (argv[0] !== 'sh' || argv[1] !== '-s' || opts?.stdin === undefined)
      throw new Error(`the recorder only knows sh -s requests, not ${argv.join(' ')}`);
    this.scripts.push(opts.stdin);
    return this.inner.run(argv, opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The probe scripts pve-k3s sends each host, recorded from the commands' own code on the bed's
 * lab in-process: `status`'s (the facts probe with the lease's reads in the controller's pct
 * exec) and the no-op upgrade's (planCluster: the facts and preflight probes, combined into one
 * request per host). The floors run exactly these by hand.
 */
async function probeScripts(bed: Bed): Promise<{ facts: Map<string, string>; noop: Map<string, string> }> {
  const record = async (fn: (conn: ClusterConnection) => Promise<unknown>): Promise<Map<string, string>> => {
    const rec = new Map(bed.inventory.hosts.map((h) => [h.name, new Recorder(bed.lab.shell(h.name))]));
    const channelUrl = bed.inventory.k3s.channelUrl;
    if (typeof channelUrl !== 'string') throw new Error('the bed names its channel server by URL');
    await fn({ inventory: bed.inventory, shells: rec, channelUrl, clock: bed.lab.clock, close: async () => {} });
    return new Map(
      [...rec].map(([h, r]) => {
        if (r.scripts.length === 1) return [h, r.scripts[0]!];
        // More than one request: at once in the one connection, as pve-k3s sends them (one channel each).
        const parts = r.scripts.map((x, i) => `sh -s <<'PVE_K3S_FLOOR_${i}' &\n${x}\nPVE_K3S_FLOOR_${i}\n`);
        return [h, `${parts.join('')}wait\n`];
      }),
    );
  };
  const facts = await record((conn) => statusProbe(conn));
  const noop = await record((conn) => planCluster(conn, {}));
  return { facts, noop };
}

/** Every host at once: one ssh per host running its script; `via` a master's socket, or a cold connection of its own. */
async function byHand(hosts: Hosts, scripts: Map<string, string>, via?: (h: SshdHarness) => string): Promise<void> {
  await Promise.all(
    [...scripts].map(async ([name, script]) => {
      const h = hosts.sshds.get(name)!;
      const mux = via ? ['-o', `ControlPath=${via(h)}`, '-o', 'ControlMaster=no'] : ['-o', 'ControlMaster=no', '-o', 'ControlPath=none'];
      const r = await exec('ssh', ['-F', h.configFile, ...mux, '-o', 'BatchMode=yes', '-T', h.alias, '--', 'sh', '-s'], { input: script });
      if (r.code !== 0) throw new Error(`the probe by hand on ${name} failed (exit ${r.code}): ${r.stderr}`);
    }),
  );
}

/** The lab's metered node work of the same upgrade, run in-process with no latency: the upgrade's floor. */
async function meteredWork(nodes: number, hostCount: number, steps = false): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-cmp-meter-'));
  try {
    const created = await initLab({ dir, hosts: hostCount, servers: 1, workers: nodes - 1, version: FROM, timing: UPGRADE_WORK });
    const work = { drain: 0, install: 0, restart: 0 };
    const lab = await openLab(created.dir, { meter: (k, ms) => (work[k] += ms), exclusive: true });
    const inv = parseInventory(renderLabInventory(lab), join(dir, 'pve-k3s.yaml'));
    const server = await lab.startChannelServer();
    const shells = new Map(lab.hosts().map((h) => [h, lab.shell(h)]));
    const conn: ClusterConnection = { inventory: inv, shells, channelUrl: server.url, clock: lab.clock, close: () => server.close() };
    try {
      const { plan } = await planCluster(conn, {});
      const r = await runPlan(plan, { inventory: inv, shells });
      lab.settleWork();
      if (!r.ok) throw new Error(`metered upgrade failed: ${r.failed?.error.message}`);
      if (steps)
        log(
          `  metered node work: drain ${(work.drain / 1000).toFixed(1)} s, install ${(work.install / 1000).toFixed(1)} s, restart ${(work.restart / 1000).toFixed(1)} s`,
        );
      return work.drain + work.install + work.restart;
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where one pve-k3s upgrade's wall time went (ms), from its journal and the process's own start and end. */
interface Breakdown {
  /** Process start to the journal's run-start: Node start-up, SSH, the probe, the plan, the lease taken. */
  before: number;
  /** Inside steps, beyond nothing: the union of the steps' spans. */
  steps: number;
  /** Between the first step and run-end, outside any step: the runner's own work between steps. */
  between: number;
  /** run-end to the process's exit: the lease released, the final status table (a new probe), SSH closed. */
  after: number;
  /** Each step: id, start offset from run-start, duration. */
  each: Array<[string, number, number]>;
}

/**
 * Reads a pve-k3s upgrade's journal (each step's start time and duration) against the process's
 * wall-clock start and end (Date.now(), as the journal's times are).
 */
function breakdown(bed: Bed, wall: { start: number; end: number }): Breakdown {
  const file = join(bed.env['XDG_STATE_HOME']!, 'pve-k3s', 'journal', `${bed.inventory.cluster}.jsonl`);
  const recs = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; step?: string; t: string; ms?: number });
  const t0 = Date.parse(recs.find((r) => r.type === 'run-start')?.t ?? '');
  const end = Date.parse(recs.findLast((r) => r.type === 'run-end')?.t ?? '');
  const starts = new Map<string, number>();
  const each: Breakdown['each'] = [];
  for (const r of recs) {
    if (r.type === 'step-start' && r.step) starts.set(r.step, Date.parse(r.t));
    const s = r.step === undefined ? undefined : starts.get(r.step);
    if (r.type === 'step-done' && s !== undefined) each.push([r.step!, s - t0, r.ms ?? 0]);
  }
  const spans = each.map(([, s, ms]) => [t0 + s, t0 + s + ms] as const).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = t0;
  for (const [s, e] of spans)
    if (e > reach) {
      covered += e - Math.max(s, reach);
      reach = e;
    }
  const first = spans[0]?.[0] ?? t0;
  return { before: first - wall.start, steps: covered, between: end - first - covered, after: wall.end - end, each };
}

function breakdownText(b: Breakdown): string {
  const kinds = new Map<string, { n: number; ms: number }>();
  for (const [id, , ms] of b.each) {
    const kind = id.split('/').at(-1)!;
    const k = kinds.get(kind) ?? { n: 0, ms: 0 };
    if (kind !== '') kinds.set(kind, { n: k.n + 1, ms: k.ms + ms });
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return [
    `  steps (start offset from run-start, duration): ${b.each.map(([id, at, ms]) => `${id} +${s(at)} ${s(ms)}`).join('; ')}`,
    `  before the first step ${s(b.before)}; in steps ${s(b.steps)} (${[...kinds].map(([k, v]) => `${k} ${v.n}x ${s(v.ms)}`).join(', ')}); between steps ${s(b.between)}; after run-end ${s(b.after)}`,
  ].join('\n');
}

function checkUpgraded(bed: Bed, who: string): void {
  const behind = bed.lab.summary().filter((n) => n.role && n.kubelet !== TARGET);
  if (behind.length > 0) throw new Error(`${who} left ${behind.map((n) => `${n.name} at ${n.kubelet}`).join(', ')}`);
}

interface NoopRow {
  nodes: number;
  hosts: number;
  pctCost: number;
  pveK3s: Sample[];
  ansible: Sample[];
  floor: Sample[];
}
interface UpgradeRow {
  nodes: number;
  hosts: number;
  pctCost: number;
  pveK3s: Sample[];
  ansible: Sample[];
  workMs: number;
  /** The no-op floor on a bed of this upgrade's shape (before it ran): what reading the cluster costs any tool. */
  readFloor: Sample[];
  /** Where each pve-k3s run's time went. */
  breakdown: Breakdown[];
}
interface StatusRow {
  nodes: number;
  hosts: number;
  pctCost: number;
  status: Sample[];
  probe: Sample[];
}

export async function compare(args: string[]): Promise<void> {
  const o = options(args);
  const pi = args.indexOf('--cpu-prof');
  cpuProfDir = pi >= 0 ? args[pi + 1] : undefined;
  const skip = sshdSkipReason();
  if (skip) {
    log(`side-by-side bench skipped: ${skip}`);
    return;
  }
  const hasAnsible = !o.noAnsible && spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0;
  if (o.noAnsible) log('Ansible baseline skipped (--no-ansible)');
  else if (!hasAnsible)
    log('Ansible baseline skipped: ansible-playbook is not installed (`apt-get install ansible-core`); pve-k3s and the floors still run');
  const started = performance.now();
  const noop: NoopRow[] = [];
  const upgrade: UpgradeRow[] = [];
  const status: StatusRow[] = [];
  // One channel server for every lab (the channels are the lab's defaults), as update.k3s.io would be.
  const channelDir = mkdtempSync(join(tmpdir(), 'pve-k3s-cmp-ch-'));
  const channelLab = await initLab({ dir: join(channelDir, 'lab') });
  const channel = await channelLab.startChannelServer();
  try {
    for (const nodes of [...new Set([...o.nodes, ...o.upgradeNodes])].sort((a, b) => a - b)) {
      const hostCount = HOSTS_FOR[nodes]!;
      const shared = o.harness === 'lab' ? await Hosts.start(hostCount) : undefined;
      const bedOf = (b: { version: string; timing: typeof UPGRADE_WORK; pctCost: number }) =>
        newBed({ shared, hostCount, nodes, channelUrl: channel.url, ...b });
      try {
        if ((o.parts.has('noop') || o.parts.has('status')) && o.nodes.includes(nodes)) {
          const bed = await bedOf({ version: TARGET, timing: NOOP_WORK, pctCost: 0 });
          const hosts = bed.hosts;
          try {
            const scripts = await probeScripts(bed);
            if (o.hold) {
              hosts.setCost(o.pctCosts[0] ?? 0);
              await hold(bed);
              return;
            }
            for (const cost of o.pctCosts) {
              hosts.setCost(cost);
              if (o.parts.has('noop')) {
                const row: NoopRow = { nodes, hosts: hostCount, pctCost: cost, pveK3s: [], ansible: [], floor: [] };
                const cases: Array<() => Promise<void>> = [
                  async () => {
                    await hosts.coldStart();
                    row.pveK3s.push(await timed(() => pveK3s(bed, ['upgrade', '--yes'], /Nothing to do/)));
                  },
                  async () => void row.floor.push(await timed(() => byHand(hosts, scripts.noop))),
                ];
                if (hasAnsible) cases.push(() => ansible(bed, async (fn) => void row.ansible.push(await timed(fn))));
                for (let i = 0; i < o.runs; i++) for (const fn of i % 2 === 0 ? cases : [...cases].reverse()) await fn();
                noop.push(row);
                log(
                  `no-op ${nodes} nodes, pct ${cost}s: pve-k3s ${med(row.pveK3s).toFixed(0)} ms, floor ${med(row.floor).toFixed(0)} ms${hasAnsible ? `, Ansible ${med(row.ansible).toFixed(0)} ms` : ''} (load ${loadOf(row.pveK3s).toFixed(1)})`,
                );
              }
              if (o.parts.has('status')) {
                const row: StatusRow = { nodes, hosts: hostCount, pctCost: cost, status: [], probe: [] };
                const socket = (h: SshdHarness): string =>
                  new SshShell({ host: h.alias, destination: h.alias, configFile: h.configFile }).controlPath;
                await pveK3s(bed, ['status'], /^target: /m); // leaves the masters up (persist)
                for (let i = 0; i < o.runs + 1; i++) {
                  const order: Array<() => Promise<void>> = [
                    async () => void row.status.push(await timed(() => pveK3s(bed, ['status'], /^target: /m))),
                    async () => void row.probe.push(await timed(() => byHand(hosts, scripts.facts, socket))),
                  ];
                  for (const fn of i % 2 === 0 ? order : order.reverse()) await fn();
                }
                status.push(row);
                log(
                  `status ${nodes} nodes, pct ${cost}s: ${med(row.status).toFixed(0)} ms with a persisted master, the probe alone ${med(row.probe).toFixed(0)} ms`,
                );
              }
            }
          } finally {
            await bed.remove();
          }
        }
        if (o.parts.has('upgrade') && o.upgradeNodes.includes(nodes)) {
          const cost = o.upgradePctCost;
          const row: UpgradeRow = {
            nodes,
            hosts: hostCount,
            pctCost: cost,
            pveK3s: [],
            ansible: [],
            workMs: 0,
            readFloor: [],
            breakdown: [],
          };
          const one = async (who: 'pveK3s' | 'ansible'): Promise<void> => {
            const bed = await bedOf({ version: FROM, timing: UPGRADE_WORK, pctCost: cost });
            try {
              if (who === 'pveK3s') {
                const scripts = await probeScripts(bed);
                row.readFloor.push(await timed(() => byHand(bed.hosts, scripts.noop)));
                await bed.hosts.coldStart();
                const wall = { start: Date.now(), end: 0 };
                row.pveK3s.push(await timed(() => pveK3s(bed, ['upgrade', '--yes'], /Upgrade complete/)));
                wall.end = Date.now();
                const b = breakdown(bed, wall);
                row.breakdown.push(b);
                if (o.steps) log(breakdownText(b));
              } else await ansible(bed, async (fn) => void row.ansible.push(await timed(fn)));
              checkUpgraded(bed, who);
            } finally {
              await bed.remove();
            }
          };
          for (let i = 0; i < o.upgradeRuns; i++) {
            const order: Array<'pveK3s' | 'ansible'> = hasAnsible ? ['pveK3s', 'ansible'] : ['pveK3s'];
            for (const who of i % 2 === 0 ? order : order.reverse()) await one(who);
          }
          row.workMs = await meteredWork(nodes, hostCount, o.steps);
          upgrade.push(row);
          log(
            `upgrade ${nodes} nodes, pct ${cost}s: pve-k3s ${(med(row.pveK3s) / 1000).toFixed(1)} s${hasAnsible ? `, Ansible ${(med(row.ansible) / 1000).toFixed(1)} s` : ''}, metered node work ${(row.workMs / 1000).toFixed(1)} s`,
          );
        }
      } finally {
        await shared?.stop();
      }
    }
  } finally {
    await channel.close();
    rmSync(channelDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  if (o.json) {
    process.stdout.write(JSON.stringify({ args, seconds, noop, upgrade, status }, null, 2) + '\n');
    return;
  }
  const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-');
  const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
  const out: string[] = [];
  out.push(
    `command: npm run bench -- ${args.join(' ')}   (${seconds.toFixed(0)} s; ${cpus().length} CPUs; Node ${process.version}; hosts: ${o.harness})`,
  );
  out.push(
    `runs per case: ${o.runs} (upgrade ${o.upgradeRuns}), alternating; figures are medians; load = mean 1-minute load average at the end of each run`,
  );
  if (noop.length > 0) {
    out.push(
      '',
      '| no-op: nodes (hosts) | pct cost | pve-k3s | floor | Ansible | pve-k3s / floor | Ansible / pve-k3s | load |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of noop)
      out.push(
        `| ${r.nodes} (${r.hosts}) | ${r.pctCost} s | ${ms(med(r.pveK3s))} | ${ms(med(r.floor))} | ${ms(med(r.ansible))} | ${ratio(med(r.pveK3s), med(r.floor))} | ${ratio(med(r.ansible), med(r.pveK3s))} | ${loadOf([...r.pveK3s, ...r.floor, ...r.ansible]).toFixed(1)} |`,
      );
  }
  if (upgrade.length > 0) {
    out.push(
      '',
      '| upgrade: nodes (hosts) | pct cost | pve-k3s | Ansible | metered node work | Ansible / pve-k3s | pve-k3s / node work | node work + no-op floor | pve-k3s / (node work + no-op floor) | load |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of upgrade)
      out.push(
        `| ${r.nodes} (${r.hosts}) | ${r.pctCost} s | ${(med(r.pveK3s) / 1000).toFixed(1)} s | ${Number.isFinite(med(r.ansible)) ? `${(med(r.ansible) / 1000).toFixed(1)} s` : '-'} | ${(r.workMs / 1000).toFixed(1)} s | ${ratio(med(r.ansible), med(r.pveK3s))} | ${ratio(med(r.pveK3s), r.workMs)} | ${((r.workMs + med(r.readFloor)) / 1000).toFixed(1)} s | ${ratio(med(r.pveK3s), r.workMs + med(r.readFloor))} | ${loadOf([...r.pveK3s, ...r.ansible]).toFixed(1)} |`,
      );
  }
  if (upgrade.some((r) => r.breakdown.length > 0)) {
    const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    out.push(
      '',
      "| upgrade: where pve-k3s's time beyond the node work went, nodes | before the first step (start-up, probe, plan, lease) | in steps beyond node work (per node) | between steps | after the run (lease, final table) |",
      '|---|---:|---:|---:|---:|',
    );
    for (const r of upgrade) {
      if (r.breakdown.length === 0) continue;
      const m = (k: 'before' | 'steps' | 'between' | 'after'): number => median(r.breakdown.map((b) => b[k]));
      const inSteps = m('steps') - r.workMs;
      out.push(
        `| ${r.nodes} | ${sec(m('before'))} | ${sec(inSteps)} (${sec(inSteps / r.nodes)}) | ${sec(m('between'))} | ${sec(m('after'))} |`,
      );
    }
  }
  if (status.length > 0) {
    out.push(
      '',
      '| status: nodes (hosts) | pct cost | status, persisted master | the probe alone over that master | ratio | load |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const r of status)
      out.push(
        `| ${r.nodes} (${r.hosts}) | ${r.pctCost} s | ${ms(med(r.status))} | ${ms(med(r.probe))} | ${ratio(med(r.status), med(r.probe))} | ${loadOf([...r.status, ...r.probe]).toFixed(1)} |`,
      );
  }
  process.stdout.write(out.join('\n') + '\n');
}
