/**
 * Journal reconciliation: closing runs from what the cluster's run record says another machine
 * did (continued or abandoned them), and `abandon` itself.
 */
import { Journal, journalPath, resumable, type RunSummary } from './journal.js';
import { localIdentity, microTime, nextLease } from './lease.js';
import { encodeRecord, RECORD_ANNOTATION, type RunRecord } from './run-record.js';
import { ClusterBusyError, kubeFor, type GuardEnv } from './guard-spec.js';
import { decide, readClusterState } from './takeover.js';

/**
 * The local journal's open run, closed from the cluster's record when another machine
 * continued or abandoned it (so a later `upgrade` here does not refuse for a run finished elsewhere).
 */
export function reconcileJournal(journal: Journal, record: RunRecord | undefined): string | undefined {
  const last = journal.lastRun();
  if (!last || !record || !resumable(last)) return undefined;
  const lineage = record.lineage ?? (record.resumes ? [record.resumes] : []);
  if (record.run !== last.run && lineage.includes(last.run)) {
    journal.append({
      type: 'run-end',
      run: last.run,
      status: 'resumed',
      leftCordoned: last.leftCordoned,
      midUpgrade: last.midUpgrade,
      by: `${record.run} (${record.by})`,
    });
    return `run ${last.run} was continued by run ${record.run} of ${record.by} (${record.state})`;
  }
  // Closed elsewhere (abandoned by another machine), whether it died here in progress or ended failed or stopped.
  if (record.run === last.run && record.state !== 'running' && record.state !== last.status && record.closedBy) {
    journal.append({
      type: 'run-end',
      run: last.run,
      status: record.state,
      leftCordoned: record.cordoned,
      midUpgrade: record.midUpgrade,
      by: record.closedBy,
    });
    return `run ${last.run} was ${record.state} by ${record.closedBy}`;
  }
  return undefined;
}

export interface AbandonResult {
  /** The holder whose lease was released, when the run still held it. */
  released: string | undefined;
  /** What was said when a lease was broken or taken over. */
  notice: string | undefined;
}

/**
 * `abandon`: closes a run (this machine's, or one the cluster's record shows), once its holder
 * is gone (or with forceTakeover): the record says abandoned and the lease is released in the
 * same write, the old annotation lock of that run is removed, and the local journal closes it.
 */
export async function abandonRun(env: GuardEnv, target: RunSummary, o: { forceTakeover?: boolean } = {}): Promise<AbandonResult> {
  const journal = new Journal(journalPath(env.stateDir, env.inventory.cluster));
  journal.checkWritable();
  const me = env.identity ?? localIdentity();
  const now = env.now ?? Date.now;
  const kube = kubeFor(env);
  let released: string | undefined;
  let notice: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const st = await readClusterState(env, kube);
    notice = decide(st, env, { me, operation: 'abandon', resumes: target, ...(o.forceTakeover ? { forceTakeover: true } : {}) });
    const rec = st.record?.run === target.run ? st.record : undefined;
    const holds = st.view.holder?.run === target.run;
    if (st.legacy?.run === target.run) await st.lease.removeLegacy();
    if (!st.view.lease || (!rec && !holds)) break;
    const t = now();
    const record: RunRecord | undefined = rec
      ? {
          ...rec,
          state: 'abandoned',
          endedAt: new Date(t).toISOString(),
          updatedAt: new Date(t).toISOString(),
          inFlight: [],
          closedBy: `${me.user}@${me.host}`,
        }
      : undefined;
    const old = st.view.lease.spec;
    const spec = holds
      ? {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(t),
          renewTime: microTime(t),
          leaseTransitions: old.leaseTransitions ?? 0,
        }
      : old;
    const w = await st.lease.replace(nextLease(st.view.lease, spec, record ? { [RECORD_ANNOTATION]: encodeRecord(record) } : {}));
    if (w.ok) {
      if (holds) released = st.view.holderIdentity;
      break;
    }
    if (attempt >= 2)
      throw new ClusterBusyError(`cannot abandon run ${target.run}: the cluster lease ${st.lease.where} keeps changing under us`, {
        hint: 'another operator is at work: see pve-k3s status',
      });
  }
  const local = journal.lastRun();
  if (local?.run === target.run && resumable(local)) {
    // A drain in flight or failed may have cordoned its node: the journal's end names it too.
    const drained = [...local.open, local.failed?.step].flatMap((id) => {
      const [, node, kind] = (id ?? '').split('/');
      return node && kind === 'drain' ? [node] : [];
    });
    journal.append({
      type: 'run-end',
      run: target.run,
      status: 'abandoned',
      leftCordoned: [...new Set([...target.leftCordoned, ...local.leftCordoned, ...drained])],
      midUpgrade: target.midUpgrade,
    });
  }
  return { released, notice };
}
