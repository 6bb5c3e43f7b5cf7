/**
 * `pve-k3s resume` and `pve-k3s abandon`: continue or forget the last unfinished run, recorded
 * in this machine's journal or, for a run another machine started, in the cluster's run record.
 */
import { requireTerminal } from '../confirm.js';
import { RunError } from '../../domain/errors.js';
import { planSteps, type UpgradePlan } from '../../domain/plan.js';
import { refuseFailedPreflight } from '../../upgrade/plan/plan-cluster.js';
import { parseIgnores } from '../../upgrade/policy/preflight.js';
import { unconfirmedNodes } from '../../operation/journal.js';
import { nothingToDoDocument, upgradeResultDocument } from '../../upgrade/run/result-document.js';
import type { UpgradeOrder } from '../../inventory/types.js';
import { gatherFacts } from '../../upgrade/facts/gather.js';
import type { RunSummary } from '../../operation/journal.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { renderPlan } from '../render-plan.js';
import { renderStatus } from './status.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { applyPolicyFlags, applyRunFlags, durationFlag, type Engine, type PolicyFlags, type UpgradeFlags } from './upgrade-flags.js';
import { canaryConfirmation, enterWindow, runWithSignals } from './run-upgrade.js';
import { failureReport, onController } from './upgrade-report.js';

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
  | 'soak'
  | 'canarySoak'
  | 'waitForWindow'
> &
  PolicyFlags & { forceTakeover?: boolean; ignorePreflight?: string[]; engine?: Engine };

/** The engine of the run to continue: SUC when our Plans are still in the cluster (an `upgrade --engine suc` left them). */
async function engineOf(conn: ClusterConnection, asked: Engine | undefined): Promise<Engine> {
  if (asked !== undefined) return asked;
  const [{ ourPlans }, { guardEnvFor, kubeFor }] = await Promise.all([
    import('../../upgrade/suc/control.js'),
    import('../../operation/guard.js'),
  ]);
  try {
    return (await ourPlans(kubeFor(guardEnvFor(conn, process.env)), conn.inventory.cluster)).length > 0 ? 'suc' : 'ssh';
  } catch {
    return 'ssh';
  }
}

function describeRun(r: RunSummary): string {
  const state = r.status === undefined ? 'recorded in progress (its process ended without finishing)' : r.status;
  const where = r.inFlight
    ? `step ${r.inFlight} was in flight`
    : r.failed
      ? `step ${r.failed.step} failed: ${r.failed.message}`
      : r.completed.length
        ? `last finished step ${r.completed.at(-1)}`
        : 'no step finished';
  const what = r.operation === 'upgrade' ? `target ${r.target}` : r.operation;
  return `run ${r.run} (${what}, started ${r.startedAt} by ${r.holder}) is ${state}; ${where}`;
}

/** The run to act on (this machine's journal or the cluster's record), the journal, the guard's environment. */
async function unfinished(conn: ClusterConnection) {
  const [{ guardEnvFor, readClusterState, reconcileJournal }, { journalFor, runToContinue }] = await Promise.all([
    import('../../operation/guard.js'),
    import('../../upgrade/run/upgrade-run.js'),
  ]);
  const env = guardEnvFor(conn, process.env);
  const journal = journalFor(conn.inventory, process.env);
  let st: Awaited<ReturnType<typeof readClusterState>> | undefined;
  try {
    st = await readClusterState(env);
  } catch (err) {
    process.stderr.write(`warning: ${(err as Error).message}; only this machine's journal is consulted\n`);
  }
  const note = reconcileJournal(journal, st?.record);
  if (note) process.stderr.write(`note: ${note}\n`);
  return { env, journal, st, pick: runToContinue(journal, st) };
}

function nothing(verb: 'resume' | 'abandon', conn: ClusterConnection, last: RunSummary | undefined): string {
  const c = conn.inventory.cluster;
  return last
    ? `Nothing to ${verb}: the last ${last.operation} of ${c} (run ${last.run}) is ${last.status}.\n`
    : `Nothing to ${verb}: no upgrade of ${c} is recorded.\n`;
}

export async function resume(g: GlobalOptions, flags: ResumeFlags): Promise<number> {
  return withCluster(g, async (conn0) => {
    const { env, journal, st, pick } = await unfinished(conn0);
    if (!pick) {
      const message = nothing('resume', conn0, journal.lastRun());
      if (g.output !== 'table') {
        const last = journal.lastRun();
        await printDocument(g, {
          apiVersion: 'pve-k3s.io/v1',
          kind: 'NothingToResume',
          cluster: conn0.inventory.cluster,
          lastRun: last ? { run: last.run, status: last.status ?? null } : null,
          message: message.trimEnd(),
        });
      } else out(message);
      return 0;
    }
    const last = pick.run;
    if (last.operation !== 'upgrade') {
      throw new RunError(`run ${last.run} is a ${last.operation}, not an upgrade: ${describeRun(last)}`, {
        step: last.inFlight,
        hint: `resume continues upgrades; run that ${last.operation} again (every step can be repeated), or close it with \`pve-k3s abandon\``,
      });
    }
    const { decide } = await import('../../operation/guard.js');
    const { localIdentity } = await import('../../operation/lease.js');
    if (st)
      decide(st, env, {
        me: localIdentity(),
        operation: 'upgrade',
        resumes: last,
        ...(flags.forceTakeover ? { forceTakeover: true } : {}),
      });
    else {
      const { holderAlive } = await import('../../upgrade/run/upgrade-run.js');
      if (last.status === undefined && holderAlive(last.holder))
        throw new RunError(`run ${last.run} is still running (${last.holder})`, {
          step: last.inFlight,
          hint: 'wait for it, or stop it with Ctrl-C first',
        });
    }
    // The recorded run's snapshot choice holds unless a flag says otherwise.
    const conn = {
      ...conn0,
      inventory: await applyPolicyFlags(
        await applyRunFlags(conn0.inventory, { ...flags, snapshot: flags.snapshot ?? (last.snapshot || undefined) }),
        flags,
      ),
    };
    await enterWindow(conn, 'resume', { wait: flags.waitForWindow ?? false, quiet: g.quiet });
    process.stderr.write(`Resuming${pick.from === 'cluster' ? ' (from the cluster’s run record)' : ''}: ${describeRun(last)}\n`);
    const { planResumeWithFacts, closeResumed } = await import('../../upgrade/run/upgrade-run.js');
    const engine = await engineOf(conn, flags.engine);
    const { plan, facts: planned } = await planResumeWithFacts(conn, last, {
      ignorePreflight: parseIgnores(flags.ignorePreflight),
      soakSeconds: durationFlag('soak', flags.soak),
      canarySoakSeconds: durationFlag('canary-soak', flags.canarySoak),
    });
    if (engine === 'suc') process.stderr.write('engine: system-upgrade-controller (the run left its Plans in the cluster)\n');
    excuseLeftovers(plan, last);
    const order = last.order as UpgradeOrder;
    const json = g.output !== 'table';
    if (!json) out(renderPlan(plan));
    if (planSteps(plan).length === 0) {
      await closeResumed({ ...env, log: (l) => process.stderr.write(`${l}\n`) }, last, flags.forceTakeover);
      if (json) await printDocument(g, nothingToDoDocument(plan));
      return 0;
    }
    refuseFailedPreflight(plan.preflight);
    const asking = canaryConfirmation(plan, flags.yes ?? false);
    if (!flags.yes) requireTerminal('resume');
    const result = await runWithSignals(conn, plan, {
      g,
      policy: { order, allowSkew: last.allowSkew, ...asking },
      resumes: last,
      forceTakeover: flags.forceTakeover,
      engine,
    });
    if (json) {
      await printDocument(g, upgradeResultDocument(plan, result, { run: result.run, resumed: last.run }));
    } else if (result.ok) {
      // The run's own last read over its open session; a new probe only when it has none.
      const { factsAfterRun } = await import('../../upgrade/run/final-facts.js');
      const facts = factsAfterRun(planned, result) ?? (await gatherFacts(conn.inventory, conn.shells));
      out(`\nUpgrade complete: ${plan.cluster} now at ${plan.target.version} (resumed run ${last.run}).\n`);
      out(renderStatus(facts, plan.target.version));
    } else {
      process.stderr.write(failureReport(conn.inventory, { plan, result }, g.verbose));
    }
    return result.ok ? 0 : 1;
  });
}

export async function abandon(g: GlobalOptions, flags: { forceTakeover?: boolean } = {}): Promise<number> {
  return withCluster(g, async (conn) => {
    const inv = conn.inventory;
    const { env, journal, st, pick } = await unfinished(conn);
    if (!pick) {
      out(nothing('abandon', conn, journal.lastRun()));
      return 0;
    }
    const last = pick.run;
    if (!st) {
      const { holderAlive } = await import('../../upgrade/run/upgrade-run.js');
      if (last.status === undefined && holderAlive(last.holder))
        throw new RunError(`run ${last.run} is still running (${last.holder})`, {
          step: last.inFlight,
          hint: 'stop it with Ctrl-C first',
        });
      journal.append({ type: 'run-end', run: last.run, status: 'abandoned', leftCordoned: last.leftCordoned, midUpgrade: last.midUpgrade });
      out(`Abandoned: ${describeRun(last)}.\n`);
      out('warning: the cluster lease could not be read, so it was not released; it expires by itself\n');
    } else {
      const { abandonRun } = await import('../../operation/guard.js');
      const r = await abandonRun(env, last, flags.forceTakeover ? { forceTakeover: true } : {});
      if (r.notice && flags.forceTakeover) process.stderr.write(`${r.notice}\n`);
      out(`Abandoned: ${describeRun(last)}.\n`);
      if (r.released) out(`Released its cluster lease (held by ${r.released}).\n`);
    }
    // After the run is closed (refused above while its holder lives): its Plans and labels go.
    if ((await engineOf(conn, undefined)) === 'suc') {
      const [{ abandonSuc }, { guardEnvFor, kubeFor }] = await Promise.all([
        import('../../upgrade/suc/control.js'),
        import('../../operation/guard.js'),
      ]);
      const r = await abandonSuc(kubeFor(guardEnvFor(conn, process.env)), inv.cluster, last.leftCordoned);
      out(`Deleted the SUC Plans of ${inv.cluster} (${r.plans.join(', ')}): SUC deletes their Jobs.\n`);
      if (r.uncordoned.length > 0) out(`Uncordoned what the run cordoned: ${r.uncordoned.join(', ')}.\n`);
    }
    const facts = await gatherFacts(inv, conn.shells);
    const cordoned = facts.nodes.filter((n) => n.kube?.cordonedByUs !== undefined).map((n) => n.name);
    // A drain without our annotation (uninstall's) is named by the run's record only.
    const byRun = facts.nodes
      .filter((n) => n.kube && !n.kube.schedulable && n.kube.cordonedByUs === undefined && last.leftCordoned.includes(n.name))
      .map((n) => n.name);
    if (cordoned.length > 0) {
      out(
        `Still cordoned by pve-k3s: ${cordoned.join(', ')}. \`pve-k3s upgrade\` uncordons them when they are back at the target; to uncordon by hand now:\n`,
      );
      for (const n of cordoned) out(`    ${onController(inv, `uncordon ${n}`)}\n`);
    }
    if (byRun.length > 0) {
      out(`Left cordoned by the ${last.operation}: ${byRun.join(', ')}. To uncordon by hand:\n`);
      for (const n of byRun) out(`    ${onController(inv, `uncordon ${n}`)}\n`);
    }
    if (cordoned.length === 0 && byRun.length === 0) out('No node is cordoned by pve-k3s.\n');
    return 0;
  });
}

/**
 * The nodes the interrupted run left mid-upgrade or cordoned may be NotReady: that is what
 * resume is for, so their node-ready failures do not stop it (shown as ignored).
 */
export function excuseLeftovers(plan: UpgradePlan, last: RunSummary): void {
  const report = plan.preflight;
  if (!report) return;
  const left = new Set([...unconfirmedNodes(last), ...last.leftCordoned]);
  for (const r of report.results)
    if (r.id === 'node-ready' && r.status === 'fail' && left.has(r.scope)) {
      r.status = 'ignored';
      r.message += ` (left so by run ${last.run}: resume takes care of it)`;
    }
  report.ok = !report.results.some((r) => r.status === 'fail');
}
