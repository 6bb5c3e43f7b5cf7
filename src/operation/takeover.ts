/**
 * Who may take the cluster now: one read of the Lease, its run record and the old annotation
 * lock, and the decision made on it (free, taken over from an expired or dead holder, broken
 * with --force-takeover, or refused naming the holder and the step in flight).
 */
import { Journal, journalPath } from './journal.js';
import { ClusterLease, localIdentity, viewLease, type Holder, type Identity, type LeaseView, type LegacyLock } from './lease.js';
import { clock, decodeRecord, inProgressText, RECORD_ANNOTATION, stepText, type RunRecord } from './run-record.js';
import { ClusterBusyError, kubeFor, type GuardEnv, type OperationSpec } from './guard-spec.js';

/** The cluster's coordination state as one read sees it. */
export interface ClusterState {
  lease: ClusterLease;
  view: LeaseView;
  record: RunRecord | undefined;
  legacy: LegacyLock | undefined;
  now: number;
}

/** Reads the lease, its record and the old annotation lock (one round trip). Throws LeaseError when the API does not answer. */
export async function readClusterState(env: GuardEnv, kube = kubeFor(env), signal?: AbortSignal): Promise<ClusterState> {
  const lease = new ClusterLease(kube, env.inventory.cluster);
  const { lease: obj, legacy } = await lease.readWithLegacy(signal);
  const now = (env.now ?? Date.now)();
  return { lease, view: viewLease(obj, now), record: decodeRecord(obj?.metadata.annotations?.[RECORD_ANNOTATION]), legacy, now };
}

function defaultAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const hms = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

/**
 * Is the holder of the lease known dead? Only for a run this machine's journal recorded (so
 * the holder really is a process of this machine, not of another one with the same host
 * name) whose process no longer runs.
 */
function holderDead(env: GuardEnv, me: Identity, h: Holder | undefined): boolean {
  if (!h || h.host !== me.host) return false;
  const local = new Journal(journalPath(env.stateDir, env.inventory.cluster)).read();
  if (!local.some((r) => r.type === 'run-start' && r.run === h.run)) return false;
  return !(env.isAlive ?? defaultAlive)(h.pid);
}

/** The record describes the run that holds (or last held) the lease. */
function recordOf(st: ClusterState): RunRecord | undefined {
  const h = st.view.holder;
  if (!st.record) return undefined;
  if (h && st.record.run !== h.run) return undefined;
  return st.record;
}

/** The run the record shows unfinished whose holder is gone (lease expired, released by hand, or its process dead). */
export function interruptedRun(st: ClusterState, env: GuardEnv, me: Identity): RunRecord | undefined {
  const r = st.record;
  if (!r || r.state !== 'running') return undefined;
  // This machine ran it and recorded its end (its last write to the cluster failed): the record is stale.
  const local = new Journal(journalPath(env.stateDir, env.inventory.cluster)).read();
  if (local.some((x) => x.type === 'run-end' && x.run === r.run)) return undefined;
  if (!st.view.holderIdentity) return r;
  if (st.view.holder?.run !== r.run) return undefined;
  return st.view.expired || holderDead(env, me, st.view.holder) ? r : undefined;
}

export type DecideSpec = Pick<OperationSpec<unknown>, 'operation' | 'resumes' | 'forceTakeover'>;

/** An operation `spec` asked for by `me`. */
export type DecideRequest = DecideSpec & { me: Identity };

/**
 * Decides whether `spec` may take the cluster now; throws ClusterBusyError naming who holds it
 * and what it is doing. Returns what to say when a lease is broken or taken over.
 */
export function decide(st: ClusterState, env: GuardEnv, spec: DecideRequest): string | undefined {
  const { me } = spec;
  const cluster = env.inventory.cluster;
  const verb = spec.resumes
    ? `cannot ${spec.operation === 'abandon' ? 'abandon' : 'resume'} run ${spec.resumes.run}`
    : `cannot ${spec.operation} ${cluster}`;
  if (st.legacy) {
    const l = st.legacy;
    const expired = Date.parse(l.expires) <= st.now;
    const ours = spec.resumes !== undefined && l.run === spec.resumes.run;
    if (!expired && !ours && !spec.forceTakeover) {
      throw new ClusterBusyError(
        `${verb}: it is locked by ${l.holder} since ${l.since} (run ${l.run}, expires ${l.expires}), the lock of an older pve-k3s`,
        {
          holder: l.holder,
          hint: `wait for that upgrade to end. If its process is gone, the lock expires at ${l.expires}, or remove it by hand: kubectl annotate node ${env.via ?? env.inventory.controller} pve-k3s.io/upgrade-lock-`,
        },
      );
    }
  }
  const v = st.view;
  if (!v.holderIdentity) {
    const dead = interruptedRun(st, env, me);
    return dead ? interrupted(dead, st, { spec, verb, why: 'its lease was released without ending it' }) : undefined;
  }
  const rec = recordOf(st);
  const known = holderDead(env, me, v.holder);
  if (v.live && !known) {
    if (spec.forceTakeover)
      return `breaking the cluster lease ${st.lease.where} held by ${v.holderIdentity}${rec ? ` (${inProgressText(rec, st.now)})` : ''}`;
    const what = rec ? inProgressText(rec, st.now) : `the cluster lease ${st.lease.where} is held by ${v.holderIdentity}`;
    const lease = `lease ${st.lease.where} held by ${v.holderIdentity}${v.renewedAt !== undefined ? `, renewed at ${hms(v.renewedAt)}` : ''}${v.expiresAt !== undefined ? `, expires at ${hms(v.expiresAt)} unless renewed` : ''}`;
    const op = rec?.operation ?? 'operation';
    const next = spec.resumes
      ? `if its process is gone, run this again once the lease has expired, or pass --force-takeover to break it now`
      : op === 'upgrade'
        ? `if its process is gone, \`pve-k3s resume\` continues it once the lease has expired, or at once with --force-takeover`
        : `if its process is gone, the lease expires by itself`;
    throw new ClusterBusyError(`${verb}: ${what}`, {
      holder: v.holderIdentity,
      ...(rec ? { record: rec } : {}),
      hint: `${lease}. Wait for that ${op} to end; ${next}`,
    });
  }
  const dead = interruptedRun(st, env, me);
  if (dead)
    return interrupted(dead, st, {
      spec,
      verb,
      why: known ? 'its process is gone' : `its lease expired at ${hms(v.expiresAt ?? st.now)}`,
    });
  return known
    ? `taking over the lease of ${v.holderIdentity} (its process is gone)`
    : `taking over the expired lease of ${v.holderIdentity}`;
}

/** `verb`: what cannot be done ("cannot upgrade c1"); `why`: how the run `dead` ended. */
function interrupted(dead: RunRecord, st: ClusterState, { spec, verb, why }: { spec: DecideSpec; verb: string; why: string }): string {
  const continues = spec.resumes !== undefined && spec.resumes.run === dead.run;
  const rerun = dead.operation !== 'upgrade' && dead.operation === spec.operation && spec.resumes === undefined;
  if (continues || rerun) return `taking over from run ${dead.run} (${dead.operation} by ${dead.by}; ${why})`;
  throw new ClusterBusyError(
    `${verb}: ${dead.operation} interrupted: ${stepText(dead)}${dead.inFlight.length ? ' was in flight' : ''}, by ${dead.by} since ${clock(dead.startedAt, st.now)} (${why})`,
    {
      holder: st.view.holderIdentity ?? dead.by,
      record: dead,
      hint:
        dead.operation === 'upgrade'
          ? `continue it with \`pve-k3s resume\`, or forget it with \`pve-k3s abandon\`${spec.operation === 'upgrade' && !spec.resumes ? ' (then `pve-k3s upgrade` re-reads the cluster)' : `, then run ${spec.operation} again`}`
          : `run that ${dead.operation} again (every step can be repeated), or forget it with \`pve-k3s abandon\``,
    },
  );
}

/** Reads the cluster and refuses as the operation would, without taking anything (early, before a plan is shown). */
export async function checkFree(env: GuardEnv, spec: DecideSpec): Promise<ClusterState> {
  const st = await readClusterState(env);
  decide(st, env, { ...spec, me: env.identity ?? localIdentity() });
  return st;
}
