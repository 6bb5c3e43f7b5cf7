/** `pve-k3s resume` and `pve-k3s abandon`: continue or forget the upgrade the journal records. */
import { requireTerminal } from '../confirm.js';
import { RunError } from '../../domain/errors.js';
import { planSteps } from '../../domain/plan.js';
import { nothingToDoDocument, upgradeResultDocument } from '../../upgrade/run/result-document.js';
import type { UpgradeOrder } from '../../inventory/types.js';
import { planCluster } from '../../upgrade/plan/plan-cluster.js';
import { gatherFacts } from '../../upgrade/facts/gather.js';
import { Kube } from '../../kube/kube.js';
import { Pct } from '../../proxmox/pct.js';
import { LOCK_ANNOTATION, readLock } from '../../operation/lock.js';
import { resumable, unconfirmedNodes, type RunSummary } from '../../operation/journal.js';
import { renderPlan } from '../render-plan.js';
import { renderStatus } from './status.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { applyRunFlags, failureReport, onController, runWithSignals, type UpgradeFlags } from './upgrade.js';

export type ResumeFlags = Pick<
  UpgradeFlags,
  | 'yes'
  | 'snapshot'
  | 'disableEviction'
  | 'drainTimeout'
  | 'drainForce'
  | 'drainGracePeriod'
  | 'skipWaitForDeleteTimeout'
  | 'drainOnTimeout'
  | 'readyTimeout'
  | 'parallel'
>;

function describeRun(r: RunSummary): string {
  const state = r.status === undefined ? 'recorded in progress (its process ended without finishing)' : r.status;
  const where = r.inFlight
    ? `step ${r.inFlight} was in flight`
    : r.failed
      ? `step ${r.failed.step} failed: ${r.failed.message}`
      : r.completed.length
        ? `last finished step ${r.completed.at(-1)}`
        : 'no step finished';
  return `run ${r.run} (target ${r.target}, started ${r.startedAt} by ${r.holder}) is ${state}; ${where}`;
}

export async function resume(g: GlobalOptions, flags: ResumeFlags): Promise<number> {
  return withCluster(g, async (conn0) => {
    const { journalFor, holderAlive } = await import('../../upgrade/run/upgrade-run.js');
    const journal = journalFor(conn0.inventory, process.env);
    const last = journal.lastRun();
    // The recorded run's snapshot choice holds unless a flag says otherwise.
    const conn = {
      ...conn0,
      inventory: await applyRunFlags(conn0.inventory, { ...flags, snapshot: flags.snapshot ?? (last?.snapshot || undefined) }),
    };
    if (!last || !resumable(last)) {
      out(
        last
          ? `Nothing to resume: the last upgrade of ${conn.inventory.cluster} (run ${last.run}) is ${last.status}.\n`
          : `Nothing to resume: no upgrade of ${conn.inventory.cluster} is recorded.\n`,
      );
      return 0;
    }
    if (last.status === undefined && holderAlive(last.holder)) {
      throw new RunError(`run ${last.run} is still running (${last.holder})`, {
        step: last.inFlight,
        hint: 'wait for it, or stop it with Ctrl-C first',
      });
    }
    process.stderr.write(`Resuming: ${describeRun(last)}\n`);
    // Facts are re-read: the plan continues from what the cluster is now, towards the recorded target.
    const order = last.order as UpgradeOrder;
    // A node it installed without confirming its health may look done: its health gate goes first.
    const { plan } = await planCluster(conn, {
      version: last.target,
      order,
      allowSkew: last.allowSkew,
      unconfirmed: unconfirmedNodes(last),
    });
    const json = g.output !== 'table';
    if (!json) out(renderPlan(plan));
    if (planSteps(plan).length === 0) {
      journal.append({ type: 'run-end', run: last.run, status: 'done', leftCordoned: [], midUpgrade: [] });
      if (json) await printDocument(g, nothingToDoDocument(plan));
      return 0;
    }
    if (!flags.yes) requireTerminal('resume');
    const result = await runWithSignals(conn, plan, g, { order, allowSkew: last.allowSkew }, last);
    if (json) {
      await printDocument(g, upgradeResultDocument(plan, result, { run: result.run, resumed: last.run }));
    } else if (result.ok) {
      const facts = await gatherFacts(conn.inventory, conn.shells);
      out(`\nUpgrade complete: ${plan.cluster} now at ${plan.target.version} (resumed run ${last.run}).\n`);
      out(renderStatus(facts, plan.target.version));
    } else {
      process.stderr.write(failureReport(conn.inventory, plan, result, g.verbose));
    }
    if (result.lockError) process.stderr.write(`warning: could not release the cluster lock (${result.lockError}); it expires by itself\n`);
    return result.ok ? 0 : 1;
  });
}

export async function abandon(g: GlobalOptions): Promise<number> {
  return withCluster(g, async (conn) => {
    const inv = conn.inventory;
    const { journalFor, holderAlive } = await import('../../upgrade/run/upgrade-run.js');
    const journal = journalFor(inv, process.env);
    const last = journal.lastRun();
    if (!last || !resumable(last)) {
      out(
        `Nothing to abandon: ${last ? `the last upgrade of ${inv.cluster} (run ${last.run}) is ${last.status}` : `no upgrade of ${inv.cluster} is recorded`}.\n`,
      );
      return 0;
    }
    if (last.status === undefined && holderAlive(last.holder)) {
      throw new RunError(`run ${last.run} is still running (${last.holder})`, { step: last.inFlight, hint: 'stop it with Ctrl-C first' });
    }
    journal.append({ type: 'run-end', run: last.run, status: 'abandoned', leftCordoned: last.leftCordoned, midUpgrade: last.midUpgrade });
    out(`Abandoned: ${describeRun(last)}.\n`);
    // Release the run's lock in the cluster, and list what it left behind.
    const ctrl = inv.nodes.find((n) => n.name === inv.controller)!;
    const shell = conn.shells.get(ctrl.host)!;
    const kube = new Kube(new Pct(shell), ctrl.vmid, ctrl.name);
    try {
      const lock = await readLock(kube, ctrl.name);
      if (lock && lock.run === last.run) {
        const r = await kube.annotate(ctrl.name, LOCK_ANNOTATION, undefined, { timeoutMs: 30_000 });
        out(
          r.code === 0
            ? `Released its cluster lock (held by ${lock.holder}).\n`
            : `warning: could not release its cluster lock; it expires at ${lock.expires}\n`,
        );
      }
    } catch (err) {
      out(`warning: cannot read the cluster lock: ${(err as Error).message}\n`);
    }
    const facts = await gatherFacts(inv, conn.shells);
    const cordoned = facts.nodes.filter((n) => n.kube?.cordonedByUs !== undefined).map((n) => n.name);
    if (cordoned.length > 0) {
      out(
        `Still cordoned by pve-k3s: ${cordoned.join(', ')}. \`pve-k3s upgrade\` uncordons them when they are back at the target; to uncordon by hand now:\n`,
      );
      for (const n of cordoned) out(`    ${onController(inv, `uncordon ${n}`)}\n`);
    } else {
      out('No node is cordoned by pve-k3s.\n');
    }
    return 0;
  });
}
