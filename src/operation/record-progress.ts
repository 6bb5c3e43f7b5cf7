/**
 * Writing the run record: the record a run starts with, and how each journal record moves it
 * on (steps in flight, done, failed; nodes cordoned, mid-upgrade, done). The lease holder
 * (lease-holder.ts) carries it into the cluster.
 */
import type { JournalRecord } from './journal.js';
import type { Identity } from './lease.js';
import { RECORD_VERSION, type RunRecord } from './run-record.js';
import type { OperationSpec } from './guard-spec.js';

type RecordSpec = Pick<
  OperationSpec<unknown>,
  'operation' | 'args' | 'stepIds' | 'steps' | 'planDigest' | 'upgrade' | 'resumes' | 'cordoned'
>;

export class RecordProgress {
  readonly record: RunRecord;
  /** Steps started so far (the index of a step with no id in the plan). */
  stepIndex = 0;
  private readonly doneSteps = new Set<string>();

  constructor(
    private readonly spec: RecordSpec,
    o: { run: string; me: Identity; now: number },
  ) {
    const started = new Date(o.now).toISOString();
    const lineage = spec.resumes ? [spec.resumes.run, ...(spec.resumes.lineage ?? [])].slice(0, 20) : undefined;
    this.record = {
      v: RECORD_VERSION,
      run: o.run,
      operation: spec.operation,
      args: spec.args ?? [],
      by: `${o.me.user}@${o.me.host}`,
      pid: o.me.pid,
      startedAt: started,
      updatedAt: started,
      state: 'running',
      ...(spec.resumes ? { resumes: spec.resumes.run } : {}),
      ...(lineage ? { lineage } : {}),
      ...(spec.planDigest ? { planDigest: spec.planDigest } : {}),
      ...(spec.upgrade ?? {}),
      steps: spec.stepIds?.length ?? spec.steps ?? 0,
      completed: 0,
      inFlight: [],
      nodesDone: [],
      cordoned: [...(spec.cordoned ?? [])],
      midUpgrade: [...(spec.resumes?.midUpgrade ?? [])],
    };
  }

  /** The 1-based index a step about to start will have. */
  indexOf(step: string): number {
    return (this.spec.stepIds?.indexOf(step) ?? -1) + 1 || this.stepIndex + 1;
  }

  private nodeSteps(node: string): string[] {
    return (this.spec.stepIds ?? []).filter((id) => id.split('/')[1] === node);
  }

  /**
   * Before a step is sent: a drain names its node among the cordoned (and an install or restart
   * among the mid-upgrade) in the record written at that boundary, so a process killed once the
   * command has left leaves a record that names what it may have changed. The journal's
   * step-start (observe) says the same a moment later.
   */
  aboutToStart(step: { id: string; node: string }): void {
    const r = this.record;
    const kind = step.id.split('/')[2];
    if (kind === 'drain' && !r.cordoned.includes(step.node)) r.cordoned.push(step.node);
    if ((kind === 'install' || kind === 'restart') && !r.midUpgrade.includes(step.node)) r.midUpgrade.push(step.node);
  }

  /** Keeps the record in step with what the journal says. */
  observe(rec: JournalRecord): void {
    const r = this.record;
    if (rec.type === 'step-start') {
      const ids = this.spec.stepIds;
      const index = ids ? ids.indexOf(rec.step) + 1 || ++this.stepIndex : ++this.stepIndex;
      r.inFlight.push({ step: rec.step, node: rec.node, index });
      const kind = rec.step.split('/')[2];
      if (kind === 'drain' && !r.cordoned.includes(rec.node)) r.cordoned.push(rec.node);
      if ((kind === 'install' || kind === 'restart') && !r.midUpgrade.includes(rec.node)) r.midUpgrade.push(rec.node);
    } else if (rec.type === 'step-done' || rec.type === 'step-failed') {
      const f = r.inFlight.find((x) => x.step === rec.step);
      r.inFlight = r.inFlight.filter((x) => x.step !== rec.step);
      const node = f?.node ?? rec.step.split('/')[1] ?? '';
      if (rec.type === 'step-failed') {
        r.failed = { step: rec.step, message: rec.message };
        return;
      }
      r.completed++;
      r.lastCompleted = rec.step;
      const kind = rec.step.split('/')[2];
      // Uncordoned, or deleted from the cluster (uninstall): no longer cordoned by us.
      if (kind === 'uncordon' || kind === 'delete-node') r.cordoned = r.cordoned.filter((n) => n !== node);
      if (kind === 'wait-ready') r.midUpgrade = r.midUpgrade.filter((n) => n !== node);
      this.doneSteps.add(rec.step);
      const mine = this.nodeSteps(node);
      if (mine.length > 0 && mine.every((id) => this.doneSteps.has(id)) && !r.nodesDone.includes(node)) r.nodesDone.push(node);
    }
  }
}
