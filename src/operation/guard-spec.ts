/**
 * What a guarded operation is given (its environment and its spec) and what its body gets,
 * with the two errors a guard raises. The guard itself is src/operation/guard.ts.
 */
import { PveK3sError } from '../domain/errors.js';
import type { Inventory } from '../inventory/types.js';
import { stateDir } from '../inventory/paths.js';
import { Kube } from '../kube/kube.js';
import { Pct } from '../proxmox/pct.js';
import type { Shell } from '../shell/shell.js';
import type { Journal, RunEndStatus, RunSummary } from './journal.js';
import { LeaseError, leaseSecondsFrom, type Identity } from './lease.js';
import type { RunRecord } from './run-record.js';

/** What the guard needs to know of where it runs. */
export interface GuardEnv {
  inventory: Inventory;
  shells: ReadonlyMap<string, Shell>;
  /** pve-k3s's state directory (the journal is `<stateDir>/journal/<cluster>.jsonl`). */
  stateDir: string;
  /** @default this user, host and process */
  identity?: Identity;
  /** @default Date.now */
  now?: () => number;
  /** @default DEFAULT_LEASE_SECONDS */
  leaseSeconds?: number;
  /** How often the lease is renewed between step boundaries. @default a quarter of its duration */
  renewMs?: number;
  /** Whether a process of this host is alive. @default signal 0 */
  isAlive?: (pid: number) => boolean;
  /** The server whose kubectl holds the lease. @default the inventory's controller */
  via?: string;
  /** Notices: a lease broken or taken over, a release that failed. */
  log?: (line: string) => void;
  /**
   * Handle SIGINT and SIGTERM while the operation runs: the first asks it to stop at its next
   * safe point (onStop says so), the second aborts the step in flight. @default not handled
   */
  signals?: { onStop?: (signal: NodeJS.Signals) => void };
}

export interface UpgradeFacts {
  target: string;
  source: string;
  order: string;
  allowSkew: boolean;
  snapshot: boolean;
}

export interface RunOutcome {
  status: RunEndStatus;
  leftCordoned: string[];
  midUpgrade: string[];
  message?: string;
}

export interface OperationSpec<T> {
  /** `upgrade`, `restore`, `uninstall`, `backup`, `doctor --fix`, `install`, `join`, `lab reset`. */
  operation: string;
  /** What it was given (shown in the record): a node name, a backup's directory name. */
  args?: string[];
  /** The plan's step ids, in order (for `step 6/14`). */
  stepIds?: string[];
  /** How many steps, when there are no ids ahead. */
  steps?: number;
  planDigest?: string;
  upgrade?: UpgradeFacts;
  /** The run this one continues (resume): taken over when its holder is gone, closed as resumed. */
  resumes?: RunSummary;
  /** Break a live lease (resume/abandon --force-takeover). */
  forceTakeover?: boolean;
  /**
   * install: before the first server runs there is no API to hold a lease in; the run goes on
   * without one until the body calls clusterUp().
   */
  clusterMayNotExist?: boolean;
  /** Nodes cordoned by an earlier run, which this one finishes. */
  cordoned?: string[];
  /** Runs holding the lease before the journal records the run: its failure releases the lease and records nothing. */
  prepare?: () => Promise<void>;
  /** How the run ended, from the body's value. @default done */
  outcome?: (value: T) => RunOutcome;
  /** The body's value once the run is closed, told whether the lease was lost to someone else meanwhile. */
  closed?: (value: T, lost: LeaseLostError | undefined) => T;
}

/** What the body of a guarded operation gets. */
export interface Guarded {
  readonly run: string;
  /** Aborted when the lease is lost to someone else, or on a second Ctrl-C. */
  readonly signal: AbortSignal;
  /** A first Ctrl-C: stop at the next safe point. */
  stopRequested(): boolean;
  /** For the upgrade runner: journal records that also keep the run record up to date. */
  readonly journal: Pick<Journal, 'append'>;
  /** Awaited before each step starts: the record says it is in flight; throws when the lease is lost. */
  beforeStep(step: { id: string; node: string }): Promise<void>;
  /** One journaled step around fn (commands without a runner); stops first when asked to. */
  step<R>(id: string, node: string, fn: () => Promise<R>): Promise<R>;
  note(message: string, node?: string): void;
  /** restore, lab reset: fn replaces the datastore, and the Lease with it; the lease is taken again after it. */
  replacingDatastore<R>(fn: () => Promise<R>): Promise<R>;
  /** install: the first server now runs: take the lease (refused like any acquisition). */
  clusterUp(): Promise<void>;
}

/** Another operation holds the cluster, or one died without finishing. */
export class ClusterBusyError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly holder: string | undefined;
  readonly record: RunRecord | undefined;
  constructor(message: string, opts: { hint?: string; detail?: string; holder?: string; record?: RunRecord }) {
    super(message, opts);
    this.holder = opts.holder;
    this.record = opts.record;
  }
}

/** The lease was taken by someone else while we held it: the run stopped. */
export class LeaseLostError extends PveK3sError {
  readonly exitCode = 1 as const;
}

/** `pct` on one Proxmox host of the environment. */
export function pctOn(env: Pick<GuardEnv, 'shells'>, host: string): Pct {
  const shell = env.shells.get(host);
  if (!shell) throw new LeaseError(`no connection to Proxmox host ${host}`);
  return new Pct(shell);
}

/** kubectl on the server the guard works through (`via`, else the inventory's controller). */
export function kubeFor(env: GuardEnv, pctFor?: (host: string) => Pct): Kube {
  const inv = env.inventory;
  const name = env.via ?? inv.controller;
  const n = inv.nodes.find((x) => x.name === name);
  if (!n) throw new LeaseError(`${name} is not a node of ${inv.file}`);
  const shell = env.shells.get(n.host);
  if (!shell) throw new LeaseError(`no connection to Proxmox host ${n.host} (of ${n.name})`);
  return new Kube(pctFor ? pctFor(n.host) : new Pct(shell), n.vmid, n.name);
}

/** The guard's environment for a conn, from the process environment (state dir, lease duration). */
export function guardEnvFor(
  conn: { inventory: Inventory; shells: ReadonlyMap<string, Shell> },
  processEnv: NodeJS.ProcessEnv,
  extra: Partial<GuardEnv> = {},
): GuardEnv {
  return {
    inventory: conn.inventory,
    shells: conn.shells,
    stateDir: stateDir(processEnv),
    leaseSeconds: leaseSecondsFrom(processEnv),
    ...extra,
  };
}
