/**
 * `pve-k3s plan` and `pve-k3s upgrade`. Their flags are in upgrade-flags.ts, what `upgrade`
 * shares with `resume` to run a plan in run-upgrade.ts, the failure report in upgrade-report.ts.
 */
import { confirm, requireTerminal } from '../confirm.js';
import { readFile } from 'node:fs/promises';
import { UsageError, PlanError } from '../../domain/errors.js';
import { OLDER_PLAN_API_VERSIONS, PLAN_API_VERSION, planSteps, type UpgradePlan } from '../../domain/plan.js';
import type { Inventory } from '../../inventory/types.js';
import { planCluster, refuseFailedPreflight, type ClusterPlan, type PlanFlags } from '../../upgrade/plan/plan-cluster.js';
import { ProbedKube } from '../../upgrade/facts/probed-kube.js';
import type { Kube } from '../../kube/kube.js';
import { relocationWarnings } from '../../upgrade/facts/locate.js';
import { gatherFacts } from '../../upgrade/facts/gather.js';
import { nothingToDoDocument, upgradeResultDocument } from '../../upgrade/run/result-document.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { renderPlan } from '../render-plan.js';
import { renderStatus } from './status.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { applyPolicyFlags, applyRunFlags, planFlags, type Engine, type PlanCommandFlags, type UpgradeFlags } from './upgrade-flags.js';
import { canaryConfirmation, enterWindow, runWithSignals, windowOpen } from './run-upgrade.js';
import { failureReport } from './upgrade-report.js';

export async function plan(g: GlobalOptions, flags: PlanCommandFlags): Promise<number> {
  return withCluster(g, async (conn0) => {
    const conn = { ...conn0, inventory: await applyPolicyFlags(conn0.inventory, flags) };
    const { plan, facts } = await planCluster(conn, planFlags(flags));
    for (const w of relocationWarnings(facts, conn.inventory.file)) process.stderr.write(w);
    if (flags.engine === 'suc') return printSucPlans(g, conn.inventory, plan);
    if (g.output === 'table') out(renderPlan(plan));
    else await printDocument(g, plan);
    return 0;
  });
}

/** `plan --engine suc`: the plan as system-upgrade-controller Plans (YAML stream; a List with -o json). */
async function printSucPlans(g: GlobalOptions, inv: Inventory, plan: UpgradePlan): Promise<number> {
  const { sucPlans, sucPlanList, sucPlansYaml } = await import('../../upgrade/suc/plans.js');
  const set = sucPlans(plan, { drain: inv.drain, readyTimeoutSeconds: inv.upgrade.readyTimeoutSeconds });
  if (!g.quiet)
    for (const e of set.excluded)
      process.stderr.write(
        `note: ${e.node} was cordoned before the run: the Plans exclude it (label it ${e.plans.map((p) => `plan.upgrade.cattle.io/${p}=disabled`).join(' and ')}), so SUC does not uncordon it; upgrade it with \`pve-k3s upgrade\`\n`,
      );
  if (g.output === 'json') {
    await printDocument(g, sucPlanList(set));
  } else {
    const { stringify } = await import('yaml');
    out(sucPlansYaml(set, (d) => stringify(d)));
  }
  return 0;
}

/**
 * `upgrade --engine suc`: refuses (before planning) unless system-upgrade-controller is installed
 * and the cluster is not Rancher's; the preflight's own look at other upgraders is left to this
 * check (our own Plans of an unfinished run are expected).
 */
async function checkSucEngine(conn: ClusterConnection): Promise<void> {
  const [{ checkSucCluster }, { guardEnvFor, kubeFor }] = await Promise.all([
    import('../../upgrade/suc/cluster.js'),
    import('../../operation/guard.js'),
  ]);
  await checkSucCluster(kubeFor(guardEnvFor(conn, process.env)), conn.inventory.cluster);
}

export async function upgrade(g: GlobalOptions, flags: UpgradeFlags): Promise<number> {
  const engine: Engine = flags.engine ?? 'ssh';
  return withCluster(g, async (conn0) => {
    const conn = { ...conn0, inventory: await applyPolicyFlags(await applyRunFlags(conn0.inventory, flags), flags) };
    const started = Date.now();
    // SUC upgrades each phase's servers first: the plan is made so, and a worker-first order refused.
    const sucOrder =
      engine === 'suc' ? (await import('../../upgrade/suc/engine.js')).sucOrder(flags.order ?? conn.inventory.upgrade.order) : undefined;
    if (engine === 'suc') await checkSucEngine(conn);
    const waits = !flags.dryRun && !(await windowOpen(conn));
    if (waits) {
      await refuseIfBusy(conn, 'upgrade');
      await enterWindow(conn, 'upgrade', { wait: flags.waitForWindow ?? false, quiet: g.quiet });
    }
    // In the window, both only read: the lease check and the plan go at the same time, the
    // lease's reads inside the facts probe's request to the controller (one request per host),
    // and a busy cluster is refused before any plan error is reported.
    const lease = flags.dryRun ? undefined : await probedLease(conn);
    const busyCheck = flags.dryRun ? Promise.resolve() : refuseIfBusy(conn, 'upgrade', lease);
    const [busy, planned] = await Promise.allSettled([
      busyCheck,
      planWithLease(conn, { ...planFlags(flags), ...(sucOrder ? { order: sucOrder } : {}) }, { lease, busyCheck }),
    ]);
    if (busy.status === 'rejected') throw busy.reason;
    if (planned.status === 'rejected') throw planned.reason;
    const { plan: fresh, facts } = planned.value;
    for (const w of relocationWarnings(facts, conn.inventory.file)) process.stderr.write(w);
    const plan = flags.plan ? await checkSavedPlan(flags.plan, fresh) : fresh;
    if (engine === 'suc') {
      const refusal = (await import('../../upgrade/suc/engine.js')).sucPlanRefusal(plan);
      if (refusal) throw refusal;
    }
    const steps = planSteps(plan);
    const json = g.output !== 'table';
    if (!json) out(renderPlan(plan));
    if (steps.length === 0) {
      if (json) await printDocument(g, nothingToDoDocument(plan));
      return 0;
    }
    if (flags.dryRun) {
      if (json) await printDocument(g, plan);
      else out('Dry run: nothing was changed.\n');
      return fresh.preflight?.ok === false ? 1 : 0;
    }
    // The fresh preflight decides, even for a saved plan: the cluster may have changed since.
    refuseFailedPreflight(fresh.preflight);
    const asking = canaryConfirmation(plan, flags.yes ?? false);
    if (!flags.yes) {
      requireTerminal('upgrade', 'review the plan (pve-k3s plan) and pass --yes');
      if (
        !(await confirm(
          `Upgrade ${plan.nodes.filter((n) => n.action !== 'none').length} node(s) of ${plan.cluster} to ${plan.target.version}? [y/N] `,
        ))
      ) {
        out('Nothing was changed.\n');
        return 1;
      }
    }
    const result = await runWithSignals(conn, plan, {
      g,
      policy: {
        order: sucOrder ?? flags.order ?? conn.inventory.upgrade.order,
        allowSkew: flags.allowSkew ?? conn.inventory.upgrade.allowSkew,
        ...asking,
      },
      engine,
    });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (json) {
      await printDocument(g, upgradeResultDocument(plan, result, { run: result.run }));
    } else if (result.ok) {
      // The run's own last read over its open session; a new probe only when it has none.
      const { factsAfterRun } = await import('../../upgrade/run/final-facts.js');
      const after = factsAfterRun(facts, result) ?? (await gatherFacts(conn.inventory, conn.shells));
      out(
        `\nUpgrade complete: ${plan.nodes.filter((n) => n.action !== 'none').length} node(s) of ${plan.cluster} now at ${plan.target.version} (${secs}s).\n`,
      );
      out(renderStatus(after, plan.target.version));
    } else {
      process.stderr.write(failureReport(conn.inventory, { plan, result }, g.verbose));
    }
    return result.ok ? 0 : 1;
  });
}

/** A Kube for the lease check whose reads the facts probe carries, or undefined (no controller to read from). */
async function probedLease(conn: ClusterConnection): Promise<ProbedKube | undefined> {
  const { guardEnvFor, kubeFor } = await import('../../operation/guard.js');
  try {
    return new ProbedKube(kubeFor(guardEnvFor(conn, process.env)));
  } catch {
    return undefined; // refuseIfBusy reads (and fails) on its own
  }
}

/** The plan, its facts probe carrying the lease check's reads once refuseIfBusy asks for them. */
async function planWithLease(
  conn: ClusterConnection,
  flags: PlanFlags,
  o: { lease: ProbedKube | undefined; busyCheck: Promise<void> },
): Promise<ClusterPlan> {
  const { lease } = o;
  if (!lease) return planCluster(conn, flags);
  const settled = o.busyCheck.then(
    () => undefined,
    () => undefined,
  );
  const asked = await Promise.race([lease.asked, settled]);
  try {
    return await planCluster(conn, { ...flags, ...(asked ? { controllerReads: lease.reads(asked) } : {}) });
  } finally {
    lease.release();
  }
}

/**
 * Before a plan is shown: refuses while another operation holds the cluster (or one died
 * unfinished), and closes this machine's journal runs that another machine continued.
 * An unreadable lease is left to the guard, which refuses then.
 */
export async function refuseIfBusy(conn: ClusterConnection, operation: string, kube?: Kube): Promise<void> {
  const { readClusterState, decide, guardEnvFor, reconcileJournal } = await import('../../operation/guard.js');
  const env = guardEnvFor(conn, process.env);
  // Asked first (a ProbedKube hands the reads to the facts probe), the other modules meanwhile.
  const read = readClusterState(env, kube);
  read.catch(() => undefined); // awaited below
  const [{ localIdentity }, { journalFor, refuseIfInProgress }] = await Promise.all([
    import('../../operation/lease.js'),
    import('../../upgrade/run/upgrade-run.js'),
  ]);
  const journal = journalFor(conn.inventory, process.env);
  const st = await read;
  const note = reconcileJournal(journal, st.record);
  if (note) process.stderr.write(`note: ${note}\n`);
  decide(st, env, { me: localIdentity(), operation });
  if (operation === 'upgrade') refuseIfInProgress(journal, conn.inventory.cluster);
}

/** A saved plan runs only if the cluster would still get exactly that plan. */
async function checkSavedPlan(file: string, fresh: UpgradePlan): Promise<UpgradePlan> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the plan file ${file}: ${(err as Error).message}`, {
      hint: 'write one with `pve-k3s plan -o json > plan.json`',
    });
  }
  const s = saved as Partial<UpgradePlan>;
  if (typeof s.apiVersion === 'string' && OLDER_PLAN_API_VERSIONS.includes(s.apiVersion) && s.kind === 'UpgradePlan') {
    throw new UsageError(`${file} is a plan of an earlier pve-k3s (${s.apiVersion}): it does not record the preflight and policy`, {
      hint: 'review the plan again and save it: pve-k3s plan -o json > plan.json',
    });
  }
  if (s.apiVersion !== PLAN_API_VERSION || s.kind !== 'UpgradePlan' || !Array.isArray(s.phases)) {
    throw new UsageError(`${file} is not a pve-k3s plan (apiVersion ${PLAN_API_VERSION}, kind UpgradePlan)`, {
      hint: 'write one with `pve-k3s plan -o json > plan.json`',
    });
  }
  const key = (p: Partial<UpgradePlan>) =>
    JSON.stringify({
      cluster: p.cluster,
      target: p.target?.version,
      steps: (p.phases ?? []).flatMap((ph) => ph.steps.map((st) => [st.id, st.version])),
    });
  if (key(s) !== key(fresh)) {
    throw new PlanError(`the cluster changed since ${file} was made: its plan no longer matches`, {
      reason: 'invalid-target',
      hint: 'review the new plan (pve-k3s plan) and save it again',
    });
  }
  return fresh;
}
