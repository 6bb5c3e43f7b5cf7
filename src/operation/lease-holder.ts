/**
 * Holding the cluster lease for one run: taking it (create, or replace of the object read; a
 * 409 Conflict means someone else won, and we read again and refuse naming them), rewriting it
 * with the run record at each step boundary and on a timer between them, noticing at once when
 * someone else took it, taking it again after the datastore was replaced, and releasing it in
 * the same write as the record's last state. Every write goes through one queue.
 */
import type { Kube } from '../kube/kube.js';
import { ClusterBusyError, LeaseLostError, type GuardEnv, type OperationSpec } from './guard-spec.js';
import { ClusterLease, microTime, newLease, nextLease, type Identity, type LeaseObject, type LegacyLock } from './lease.js';
import { decodeRecord, encodeRecord, RECORD_ANNOTATION, type RunRecord } from './run-record.js';
import { decide, readClusterState } from './takeover.js';

export interface LeaseHolderOptions {
  env: GuardEnv;
  spec: Pick<OperationSpec<unknown>, 'operation' | 'resumes' | 'forceTakeover'>;
  me: Identity;
  run: string;
  holderId: string;
  seconds: number;
  now: () => number;
  kube: Kube;
  abort: AbortController;
  log: (line: string) => void;
  /** The run record as it stands (written with every renewal). */
  record: () => RunRecord;
  /** Whether the journal recorded the run (a release before it puts the previous record back). */
  journaled: () => boolean;
}

export class LeaseHolder {
  readonly lease: ClusterLease;
  current: LeaseObject | undefined;
  held = false;
  lost: LeaseLostError | undefined;
  /** When the lease was last written (ms): it expires `seconds` after it unless renewed. */
  lastOk = 0;
  /** Renewals wait while the datastore is being replaced (restore, lab reset). */
  suspended = false;
  legacy: LegacyLock | undefined;
  /** The record the lease carried before we took it (put back when the run never started). */
  previous: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private writing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LeaseHolderOptions) {
    this.lease = new ClusterLease(o.kube, o.env.inventory.cluster);
  }

  /** Reads, decides (refusing like decide() does), takes. */
  async acquire(): Promise<void> {
    const { env, me, spec, abort } = this.o;
    for (let attempt = 0; ; attempt++) {
      const st = await readClusterState(env, this.o.kube, abort.signal);
      const notice = decide(st, env, { ...spec, me });
      this.legacy = st.legacy;
      this.previous = st.view.lease?.metadata.annotations?.[RECORD_ANNOTATION];
      const now = this.o.now();
      const obj = this.leaseWith(st.view.lease, now, 'acquire');
      const w = st.view.lease ? await this.lease.replace(obj, abort.signal) : await this.lease.create(obj, abort.signal);
      if (w.ok) {
        this.current = w.lease;
        this.held = true;
        this.lastOk = now;
        if (notice) this.o.log(`${notice}`);
        if (st.legacy) {
          const r = await this.lease.removeLegacy(abort.signal).catch(() => undefined);
          if (r && r.code === 0)
            this.o.log(`removed the old annotation lock of ${st.legacy.holder} (run ${st.legacy.run}) from ${this.o.kube.controllerName}`);
        }
        return;
      }
      // Someone else wrote it between our read and our write: read again (then refuse naming them).
      if (attempt >= 2)
        throw new ClusterBusyError(
          `cannot ${spec.operation} ${env.inventory.cluster}: the cluster lease ${this.lease.where} keeps changing under us`,
          { hint: 'another operator is taking it: wait, then try again' },
        );
    }
  }

  /** The Lease we write: held by us (renewTime now), or released (with the record as it was, when the run never started). */
  private leaseWith(read: LeaseObject | undefined, now: number, write: 'acquire' | 'renew' | 'release'): LeaseObject {
    const acquiring = write === 'acquire';
    const release = write === 'release';
    const record = this.o.record();
    record.updatedAt = new Date(now).toISOString();
    const text = release && !this.o.journaled() ? this.previous : encodeRecord(record);
    const annotations: Record<string, string> = text === undefined ? {} : { [RECORD_ANNOTATION]: text };
    const old = read?.spec ?? {};
    const transitions = (old.leaseTransitions ?? 0) + (acquiring && old.holderIdentity !== this.o.holderId ? 1 : 0);
    const spec = release
      ? {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: old.leaseTransitions ?? 0,
        }
      : {
          holderIdentity: this.o.holderId,
          leaseDurationSeconds: this.o.seconds,
          acquireTime: acquiring ? microTime(now) : (old.acquireTime ?? microTime(now)),
          renewTime: microTime(now),
          leaseTransitions: read ? transitions : 0,
        };
    const obj = read ? nextLease(read, spec, annotations) : newLease(this.o.env.inventory.cluster, spec, annotations);
    if (text === undefined && obj.metadata.annotations) delete obj.metadata.annotations[RECORD_ANNOTATION];
    return obj;
  }

  /** Rewrites the record (renewing the lease), serialized with every other write of ours; `release` empties the holder. */
  write(release = false): Promise<void> {
    const p = this.queue.then(async () => {
      if (!this.held || this.lost || (this.suspended && !release)) return;
      this.writing = true;
      try {
        for (let attempt = 0; attempt < 3; attempt++) {
          const now = this.o.now();
          const cur = this.current;
          if (!cur) return;
          const w = await this.lease.replace(this.leaseWith(cur, now, release ? 'release' : 'renew'));
          if (w.ok) {
            this.current = w.lease;
            this.lastOk = now;
            if (release) this.held = false;
            return;
          }
          // 409: did our own earlier write land unseen, or did someone else take it?
          const fresh = await this.lease.read();
          if (fresh?.spec.holderIdentity === this.o.holderId) {
            this.current = fresh;
            continue;
          }
          this.held = false;
          const rec = decodeRecord(fresh?.metadata.annotations?.[RECORD_ANNOTATION]);
          const by = fresh?.spec.holderIdentity
            ? fresh.spec.holderIdentity
            : rec && rec.run !== this.o.run
              ? `run ${rec.run} of ${rec.by} (${rec.operation}, ${rec.state === 'running' ? 'released' : rec.state})`
              : 'someone who then released or deleted it';
          this.lost = new LeaseLostError(
            `the cluster lease ${this.lease.where} was taken over by ${by}; this ${this.o.spec.operation} stopped`,
            { hint: 'someone else now works on the cluster: see `pve-k3s status`; the journal records where this run stopped' },
          );
          this.o.abort.abort(this.lost);
          return;
        }
      } finally {
        this.writing = false;
      }
    });
    this.queue = p.catch(() => {});
    return p;
  }

  /** Renews the lease between step boundaries. */
  startRenewing(renewMs: number | undefined): void {
    const every = renewMs ?? Math.max(200, Math.floor((this.o.seconds * 1000) / 4));
    this.timer = setInterval(() => {
      if (this.writing || !this.held || this.suspended) return;
      this.write().catch(() => {
        // API down (a server restarting): the next tick or step boundary tries again.
      });
    }, every);
    this.timer.unref();
  }

  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** After the datastore was replaced: the Lease is whatever the backup held (or none); ours again, whoever it names. */
  async retake(): Promise<void> {
    await this.queue;
    const fresh = await this.lease.read();
    const now = this.o.now();
    const obj = this.leaseWith(fresh, now, 'acquire');
    const w = fresh ? await this.lease.replace(obj) : await this.lease.create(obj);
    if (!w.ok)
      throw new LeaseLostError(
        `the cluster lease ${this.lease.where} changed while the datastore was being replaced; another operator may be at work`,
      );
    if (fresh?.spec.holderIdentity && fresh.spec.holderIdentity !== this.o.holderId)
      this.o.log(`the restored datastore held the lease of ${fresh.spec.holderIdentity}: it is ours again`);
    this.current = w.lease;
    this.held = true;
    this.lastOk = now;
  }
}
