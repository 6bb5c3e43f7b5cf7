/** The embedded lab: create/open a persisted world and get Shells onto its simulated hosts. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Shell } from '../shell/shell.js';
import { startChannelServer, type ChannelServer } from './channel-server.js';
import { nodeView } from './k3s-model.js';
import { LabShell } from './lab-shell.js';
import { LabStore } from './store.js';
import { settleRestarts } from './installer.js';
import { buildWorld, DEFAULT_TIMING, DEFAULT_VERSION } from './world.js';
import { buildBareWorld } from './bare.js';
import { forgetLabClock, labClock, type LabClock, type LabClockMode } from './clock.js';
import type { ExecContext, WorkMeter } from './context.js';
import type { Fault, LabInitRecord, LabState, LabTiming } from './types.js';
import { UsageError, errnoCode, fileError } from '../domain/errors.js';

export interface LabInitOptions {
  /**
   * Directory holding the lab state: created, or an old lab there is replaced. Anything else
   * (a file, a directory that holds other things) is refused with a UsageError.
   */
  dir: string;
  /** Proxmox hosts pve1..pveN. @default 2 */
  hosts?: number;
  /** k3s servers; more than one means embedded etcd. @default 1 */
  servers?: number;
  /** k3s agents. @default 3 */
  workers?: number;
  /** k3s version on every node. @default "v1.33.3+k3s1" (two patches behind stable) */
  version?: string;
  /** Per-node version overrides, by node name. @default {} */
  nodeVersions?: Record<string, string>;
  /** The channels collection JSON. @default test/fixtures/channels.json's data */
  channels?: unknown;
  /** Simulated durations. @default { installMs: 1500, restartMs: 2000, drainPerPodMs: 200, pctExecMs: 0, sshRttMs: 0 } */
  timing?: Partial<LabTiming>;
  /** Cluster name. @default "lab" */
  cluster?: string;
  /** Containers without k3s or its LXC settings, the last node's missing (`lab init --bare`). @default false */
  bare?: boolean;
  /**
   * `virtual`: the lab's time leaps to the next scheduled change whenever every party using it
   * waits, so a run takes the time of its work, not of its waits (tests); see src/lab/clock.ts.
   * @default "real"
   */
  clock?: LabClockMode;
}

/** One container of the lab as `pve-k3s lab status` shows it; k3s fields are undefined for non-members (pihole). */
export interface NodeSummary {
  name: string;
  host: string;
  vmid: number;
  status: 'running' | 'stopped';
  /** Version of the installed k3s binary. */
  version: string | undefined;
  /** Kubelet version as the lab's cluster reports it. */
  kubelet: string | undefined;
  ready: boolean | undefined;
  schedulable: boolean | undefined;
  role: 'server' | 'agent' | undefined;
}

export class Lab {
  private readonly store: LabStore;
  private readonly ctx: ExecContext;
  /** The lab's time (real, or the lab's virtual clock): what its simulated programs wait on. */
  readonly clock: LabClock;

  constructor(
    readonly dir: string,
    opts: LabOpenOptions = {},
  ) {
    this.store = new LabStore(dir, { exclusive: opts.exclusive ?? false });
    const clock = labClock(dir, this.store.read().init.clock ?? 'real');
    this.clock = clock;
    this.ctx = {
      store: this.store,
      now: () => clock.now(),
      sleep: (ms, signal) => clock.sleep(ms, signal),
      realHostFs: opts.realHostFs ?? false,
      ...(opts.meter ? { meter: opts.meter } : {}),
    };
  }

  /** Benchmarks: meters the Ready half of restarts still pending (call when the measured run ends). */
  settleWork(): void {
    settleRestarts(this.ctx, this.ctx.now());
  }

  /** Writes the state to state.json (needed only when opened `exclusive`). */
  flush(): void {
    this.store.flush();
  }

  /** The live state (re-read when another process changed it). Mutate it, then call save(). */
  get state(): LabState {
    return this.store.read();
  }

  /** Writes the (mutated) state. */
  save(): void {
    this.store.replace(this.store.read());
  }

  /** Load-modify-save under the lock; `fn` must be synchronous. */
  update<T>(fn: (s: LabState) => T): T {
    return this.store.update(fn);
  }

  /** @internal the execution context (for the shim). */
  context(): ExecContext {
    return this.ctx;
  }

  hosts(): string[] {
    return this.state.hosts.map((h) => h.name);
  }

  shell(host: string): Shell {
    if (!this.hosts().includes(host)) throw new UsageError(`lab ${this.dir} has no host "${host}" (hosts: ${this.hosts().join(', ')})`);
    return new LabShell(host, this.ctx);
  }

  startChannelServer(): Promise<ChannelServer> {
    return startChannelServer(this.store);
  }

  addFault(fault: Fault): void {
    this.store.update((s) => {
      s.faults.push(structuredClone(fault));
    });
  }

  /** Rebuilds the world from the options it was created with. */
  async reset(): Promise<void> {
    const init = this.state.init;
    const now = this.clock.now();
    this.store.replace(init.bare ? buildBareWorld(init, now) : buildWorld(init, now));
  }

  /** Every container on every host, with its node's state in the lab's cluster. */
  summary(): NodeSummary[] {
    const s = this.state;
    const now = this.clock.now();
    const cluster = s.clusters[s.cluster];
    const out: NodeSummary[] = [];
    for (const h of s.hosts) {
      for (const ct of [...h.containers].sort((a, b) => a.vmid - b.vmid)) {
        const node = cluster?.nodes[ct.hostname];
        const v = node ? nodeView({ s, clusterId: s.cluster, now }, node) : undefined;
        out.push({
          name: ct.hostname,
          host: h.name,
          vmid: ct.vmid,
          status: ct.status,
          version: ct.k3s.binaryVersion,
          kubelet: v ? v.kubelet : undefined,
          ready: v ? v.ready === 'True' : undefined,
          schedulable: node ? !node.unschedulable : undefined,
          role: node ? (node.labels['node-role.kubernetes.io/control-plane'] ? 'server' : 'agent') : undefined,
        });
      }
    }
    return out;
  }
}

export async function initLab(opts: LabInitOptions): Promise<Lab> {
  const dir = path.resolve(opts.dir);
  const init: LabInitRecord = {
    hosts: opts.hosts ?? 2,
    servers: opts.servers ?? 1,
    workers: opts.workers ?? 3,
    version: opts.version ?? DEFAULT_VERSION,
    nodeVersions: opts.nodeVersions ?? {},
    channels: opts.channels,
    timing: { ...DEFAULT_TIMING, ...opts.timing },
    cluster: opts.cluster ?? 'lab',
    ...(opts.clock === 'virtual' ? { clock: 'virtual' as const } : {}),
  };
  if (init.hosts < 1 || init.servers < 1 || init.workers < 0)
    throw new UsageError(
      `lab init: need at least 1 host and 1 server (got hosts=${init.hosts}, servers=${init.servers}, workers=${init.workers})`,
    );
  const what = labDirState(dir);
  if (what.kind === 'file')
    throw new UsageError(`cannot create a lab in ${dir}: it is a file`, { hint: 'give a new or empty directory with --dir' });
  if (what.kind === 'other')
    throw new UsageError(
      `refusing to create a lab in ${dir}: it is not empty and holds no lab (${what.why}); lab init replaces everything in its directory`,
      { hint: `give a new or empty directory with --dir, or remove ${dir} yourself` },
    );
  try {
    if (what.kind === 'lab') fs.rmSync(dir, { recursive: true, force: true });
    forgetLabClock(dir);
    fs.mkdirSync(dir, { recursive: true });
    new LabStore(dir).replace(opts.bare ? buildBareWorld(init) : buildWorld(init));
  } catch (err) {
    throw fileError(err, { action: 'create the lab in', path: dir, hint: 'give a writable directory with --dir (or set XDG_STATE_HOME)' });
  }
  return new Lab(dir);
}

/**
 * What a directory holds, for `lab init`: nothing (absent or empty), a lab (its state.json is
 * a lab's world), a file, or something else (never deleted).
 */
export function labDirState(dir: string): { kind: 'absent' | 'empty' | 'lab' | 'file' } | { kind: 'other'; why: string } {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch (err) {
    // A file where a parent directory should be: mkdir says it in words below.
    if (errnoCode(err) === 'ENOTDIR') return { kind: 'absent' };
    throw fileError(err, { action: 'look at', path: dir });
  }
  if (!st) return { kind: 'absent' };
  if (!st.isDirectory()) return { kind: 'file' };
  const entries = fs.readdirSync(dir);
  if (entries.length === 0) return { kind: 'empty' };
  if (!entries.includes('state.json'))
    return { kind: 'other', why: `no state.json among its ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}` };
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as Partial<LabState>;
    if (Array.isArray(s.hosts) && typeof s.clusters === 'object' && s.clusters !== null && typeof s.init === 'object')
      return { kind: 'lab' };
  } catch {
    // not JSON: not a lab's
  }
  return { kind: 'other', why: "its state.json is not a lab's" };
}

export interface LabOpenOptions {
  /** The shim runs on a real host: `pct push` may read real files. */
  realHostFs?: boolean;
  /** Benchmarks: receives every piece of simulated node work. */
  meter?: WorkMeter;
  /**
   * Benchmarks: this process alone uses the lab while it is open, so its state lives in memory
   * and reaches state.json only on flush() (no rewrite of the whole state per command). @default false
   */
  exclusive?: boolean;
}

export async function openLab(dir: string, opts: LabOpenOptions = {}): Promise<Lab> {
  const abs = path.resolve(dir);
  if (!new LabStore(abs).exists()) {
    throw new UsageError(`no lab in ${abs} (state.json missing)`, { hint: 'create one with `pve-k3s lab init`' });
  }
  return new Lab(abs, opts);
}
