/** `pve-k3s plan` and `pve-k3s upgrade`. */
import { confirm, requireTerminal } from '../confirm.js';
import { parseDuration } from '../../inventory/duration.js';
import { readFile } from 'node:fs/promises';
import { UsageError, PlanError } from '../../domain/errors.js';
import { OLDER_PLAN_API_VERSIONS, PLAN_API_VERSION, planSteps, type UpgradePlan } from '../../domain/plan.js';
import type { UpgradeOrder, Inventory } from '../../inventory/types.js';
import { planCluster, refuseFailedPreflight, type PlanFlags } from '../../upgrade/plan/plan-cluster.js';
import { parallelWarning } from '../../upgrade/plan/planner.js';
import { parseIgnores } from '../../upgrade/policy/preflight.js';
import { relocationWarnings } from '../../upgrade/facts/locate.js';
import { gatherFacts } from '../../upgrade/facts/gather.js';
import type { RunPlanResult } from '../../upgrade/run/run-plan.js';
import { nothingToDoDocument, upgradeResultDocument } from '../../upgrade/run/result-document.js';
import type { RunSummary } from '../../operation/journal.js';
import type { ExecuteResult } from '../../upgrade/run/upgrade-run.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { renderPlan } from '../render-plan.js';
import { renderStatus } from './status.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { plainProgress, quietProgress, ttyProgress, type Progress } from '../progress.js';
import { withHeartbeats } from '../heartbeat.js';
import { formatError } from '../report-error.js';

export interface PlanCommandFlags {
  channel?: string;
  version?: string;
  order?: UpgradeOrder;
  allowSkew?: boolean;
  /** Who does the node work: pve-k3s over SSH, or system-upgrade-controller. @default "ssh" */
  engine?: 'ssh' | 'suc';
  /** --node (repeatable): only these nodes. */
  node?: string[];
  /** --exclude (repeatable): never these nodes. */
  exclude?: string[];
  canary?: string;
  canarySoak?: string;
  soak?: string;
  /** --window "[DAYS] START-END [TZ]" (over upgrade.window). */
  window?: string;
  prometheusUrl?: string;
  alertFilterRegexp?: string;
  alertFiringOnly?: boolean;
  alertFilterMatchOnly?: boolean;
  blockingPodSelector?: string[];
  gateTimeout?: string;
  notify?: string[];
  /** --ignore-preflight (repeatable, comma-separated ids). */
  ignorePreflight?: string[];
}

export interface UpgradeFlags extends PlanCommandFlags {
  yes?: boolean;
  waitForWindow?: boolean;
  dryRun?: boolean;
  plan?: string;
  snapshot?: boolean;
  disableEviction?: boolean;
  drainTimeout?: string;
  drainForce?: boolean;
  drainGracePeriod?: string;
  skipWaitForDeleteTimeout?: string;
  drainOnTimeout?: 'fail' | 'disable-eviction';
  readyTimeout?: string;
  parallel?: string;
}

/** Applies the drain, health-gate and snapshot flags over the inventory's settings. */
export async function applyRunFlags(inv: Inventory, f: UpgradeFlags): Promise<Inventory> {
  const { parseDuration } = await import('../../inventory/duration.js');
  const dur = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const s = parseDuration(/^\d+$/.test(v) ? Number(v) : v);
    if (s === undefined)
      throw new UsageError(`--${flag}: invalid duration "${v}"`, { hint: 'write seconds (90) or units: 90s, 5m, 1h, 1m30s' });
    return s;
  };
  const drain = { ...inv.drain };
  if (f.disableEviction !== undefined) drain.disableEviction = f.disableEviction;
  if (f.drainForce !== undefined) drain.force = f.drainForce;
  if (f.drainOnTimeout !== undefined) drain.onTimeout = f.drainOnTimeout;
  drain.timeoutSeconds = dur('drain-timeout', f.drainTimeout) ?? drain.timeoutSeconds;
  drain.gracePeriodSeconds = dur('drain-grace-period', f.drainGracePeriod) ?? drain.gracePeriodSeconds;
  drain.skipWaitForDeleteTimeoutSeconds =
    dur('skip-wait-for-delete-timeout', f.skipWaitForDeleteTimeout) ?? drain.skipWaitForDeleteTimeoutSeconds;
  const upgrade = { ...inv.upgrade };
  if (f.snapshot !== undefined) upgrade.snapshot = f.snapshot;
  upgrade.readyTimeoutSeconds = dur('ready-timeout', f.readyTimeout) ?? upgrade.readyTimeoutSeconds;
  if (f.parallel !== undefined) {
    const n = Number(f.parallel);
    if (!Number.isInteger(n) || n < 1 || n > 100)
      throw new UsageError(`--parallel must be a whole number from 1 to 100, got "${f.parallel}"`);
    upgrade.parallel = n;
  }
  return { ...inv, drain, upgrade };
}

/** A duration flag in seconds (`90`, `90s`, `10m`, `1h30m`); a usage error naming the flag when it is not one. */
export function durationFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = parseDuration(/^\d+$/.test(v) ? Number(v) : v);
  if (s === undefined)
    throw new UsageError(`--${flag}: invalid duration "${v}"`, { hint: 'write seconds (90) or units: 90s, 5m, 1h, 1m30s' });
  return s;
}

/** The policy flags over the inventory's upgrade policy (window, gates, notifications): what the run enforces. */
export type PolicyFlags = Pick<
  PlanCommandFlags,
  | 'window'
  | 'prometheusUrl'
  | 'alertFilterRegexp'
  | 'alertFiringOnly'
  | 'alertFilterMatchOnly'
  | 'blockingPodSelector'
  | 'gateTimeout'
  | 'notify'
>;

export async function applyPolicyFlags(inv: Inventory, f: PolicyFlags): Promise<Inventory> {
  const upgrade = { ...inv.upgrade };
  if (f.prometheusUrl !== undefined) {
    if (!URL.canParse(f.prometheusUrl) || !/^https?:$/.test(new URL(f.prometheusUrl).protocol))
      throw new UsageError(`--prometheus-url: "${f.prometheusUrl}" is not an http(s) URL`, {
        hint: 'e.g. --prometheus-url http://prometheus.monitoring:9090',
      });
    upgrade.prometheusUrl = f.prometheusUrl;
  }
  if (f.alertFilterRegexp !== undefined) {
    try {
      new RegExp(f.alertFilterRegexp);
    } catch (err) {
      throw new UsageError(`--alert-filter-regexp: ${(err as Error).message}`, {
        hint: 'e.g. --alert-filter-regexp "^(Watchdog|InfoInhibitor)$"',
      });
    }
    upgrade.alertFilterRegexp = f.alertFilterRegexp;
  }
  if (f.notify?.length) {
    const { parseNotifyTarget } = await import('../../upgrade/policy/notify.js');
    for (const u of f.notify)
      if (!parseNotifyTarget(u))
        throw new UsageError(`--notify: "${u}" is not a webhook URL`, {
          hint: 'write an http(s) URL, optionally with its format first: ntfy+https://ntfy.sh/my-topic, slack+https://..., discord+https://...',
        });
    upgrade.notify = f.notify;
  }
  if (f.alertFiringOnly) upgrade.alertFiringOnly = true;
  if (f.alertFilterMatchOnly) upgrade.alertFilterMatchOnly = true;
  if (f.blockingPodSelector?.length) upgrade.blockingPodSelector = f.blockingPodSelector;
  const gateTimeout = durationFlag('gate-timeout', f.gateTimeout);
  if (gateTimeout !== undefined) upgrade.gateTimeoutSeconds = gateTimeout;
  if (upgrade.alertFilterMatchOnly && !upgrade.alertFilterRegexp)
    throw new UsageError(
      '--alert-filter-match-only needs --alert-filter-regexp (or upgrade.alertFilterRegexp): only the alerts it matches block',
      {},
    );
  if ((upgrade.alertFilterRegexp || upgrade.alertFiringOnly) && !upgrade.prometheusUrl)
    throw new UsageError('an alert filter without --prometheus-url (or upgrade.prometheusUrl) has no alerts to filter', {
      hint: 'add --prometheus-url, or drop the alert options',
    });
  if (f.window !== undefined) {
    const { parseWindowFlag } = await import('../../upgrade/policy/window-gate.js');
    upgrade.window = parseWindowFlag(f.window);
  }
  return { ...inv, upgrade };
}

/**
 * Before a run starts (and before it is planned): inside the maintenance window, or waiting
 * for it with --wait-for-window; otherwise refused (exit 1) saying when the next one opens.
 */
/** True without a maintenance window or inside it. */
async function windowOpen(conn: ClusterConnection): Promise<boolean> {
  const w = conn.inventory.upgrade.window;
  if (!w) return true;
  const { inWindow } = await import('../../domain/window.js');
  return inWindow(w, new Date(conn.clock.now()));
}

export async function enterWindow(
  conn: ClusterConnection,
  verb: 'upgrade' | 'resume',
  { wait, quiet }: { wait: boolean; quiet: boolean },
): Promise<void> {
  const w = conn.inventory.upgrade.window;
  if (!w) return;
  const { inWindow } = await import('../../domain/window.js');
  if (inWindow(w, new Date(conn.clock.now()))) return;
  const { outsideWindowError, waitForWindow } = await import('../../upgrade/policy/window-gate.js');
  if (!wait) throw outsideWindowError(w, new Date(conn.clock.now()), verb);
  await waitForWindow(w, conn.clock, { heartbeat: (m) => quiet || process.stderr.write(`${m}\n`) });
  if (!quiet) process.stderr.write('The maintenance window is open: going on.\n');
}

export function planFlags(f: PlanCommandFlags): PlanFlags {
  return {
    canarySoakSeconds: durationFlag('canary-soak', f.canarySoak),
    soakSeconds: durationFlag('soak', f.soak),
    version: f.version,
    channel: f.channel,
    order: f.order,
    allowSkew: f.allowSkew,
    nodes: f.node,
    exclude: f.exclude,
    canary: f.canary,
    ignorePreflight: parseIgnores(f.ignorePreflight),
  };
}

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

export type Engine = 'ssh' | 'suc';

export async function upgrade(g: GlobalOptions, flags: UpgradeFlags): Promise<number> {
  const engine: Engine = flags.engine ?? 'ssh';
  return withCluster(g, async (conn0) => {
    const conn = { ...conn0, inventory: await applyPolicyFlags(await applyRunFlags(conn0.inventory, flags), flags) };
    const started = Date.now();
    if (engine === 'suc') await checkSucEngine(conn);
    const waits = !flags.dryRun && !(await windowOpen(conn));
    if (waits) {
      await refuseIfBusy(conn, 'upgrade');
      await enterWindow(conn, 'upgrade', { wait: flags.waitForWindow ?? false, quiet: g.quiet });
    }
    // In the window, both only read: the lease check and the plan go at the same time (one round
    // trip less before the plan), and a busy cluster is refused before any plan error is reported.
    const [busy, planned] = await Promise.allSettled([
      flags.dryRun ? Promise.resolve() : refuseIfBusy(conn, 'upgrade'),
      planCluster(conn, planFlags(flags)),
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
        order: flags.order ?? conn.inventory.upgrade.order,
        allowSkew: flags.allowSkew ?? conn.inventory.upgrade.allowSkew,
        ...asking,
      },
      engine,
    });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (json) {
      await printDocument(g, upgradeResultDocument(plan, result, { run: result.run }));
    } else if (result.ok) {
      const facts = await gatherFacts(conn.inventory, conn.shells);
      out(
        `\nUpgrade complete: ${plan.nodes.filter((n) => n.action !== 'none').length} node(s) of ${plan.cluster} now at ${plan.target.version} (${secs}s).\n`,
      );
      out(renderStatus(facts, plan.target.version));
    } else {
      process.stderr.write(failureReport(conn.inventory, { plan, result }, g.verbose));
    }
    return result.ok ? 0 : 1;
  });
}

/**
 * Before a plan is shown: refuses while another operation holds the cluster (or one died
 * unfinished), and closes this machine's journal runs that another machine continued.
 * An unreadable lease is left to the guard, which refuses then.
 */
export async function refuseIfBusy(conn: ClusterConnection, operation: string): Promise<void> {
  const { readClusterState, decide, guardEnvFor, reconcileJournal } = await import('../../operation/guard.js');
  const { localIdentity } = await import('../../operation/lease.js');
  const { journalFor, refuseIfInProgress } = await import('../../upgrade/run/upgrade-run.js');
  const env = guardEnvFor(conn, process.env);
  const journal = journalFor(conn.inventory, process.env);
  const st = await readClusterState(env);
  const note = reconcileJournal(journal, st.record);
  if (note) process.stderr.write(`note: ${note}\n`);
  decide(st, env, { me: localIdentity(), operation });
  if (operation === 'upgrade') refuseIfInProgress(journal, conn.inventory.cluster);
}

/**
 * Who confirms the canary when the plan asks (a canary without --canary-soak): --yes answers
 * it, a terminal is asked; without either the run is refused before it starts.
 */
export function canaryConfirmation(plan: UpgradePlan, yes: boolean): Pick<RunPolicyOptions, 'confirm' | 'confirmedBy'> {
  const step = planSteps(plan).find((s) => s.soak?.confirm);
  if (!step) return {};
  if (yes) return { confirm: async () => true, confirmedBy: 'confirmed by --yes' };
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw new UsageError(`the canary ${step.node} needs a confirmation on a terminal before the rest go, and this is not one`, {
      hint: `let it prove itself instead: --canary-soak 10m (or upgrade.canarySoak), or pass --yes to go on without asking`,
    });
  return { confirm: (q) => confirm(q, { input: process.stdin, output: process.stderr }), confirmedBy: 'confirmed on the terminal' };
}

/** What the run applies between nodes beyond the plan (the confirmation). */
export interface RunPolicyOptions {
  order: string;
  allowSkew: boolean;
  confirm?: (question: string) => Promise<boolean>;
  confirmedBy?: string;
}

/** First Ctrl-C: stop after the node in flight. Second: abort the step in flight (the guard owns the signals). */
export async function runWithSignals(
  conn: ClusterConnection,
  plan: UpgradePlan,
  {
    g,
    policy,
    resumes,
    forceTakeover,
    engine = 'ssh',
  }: {
    g: GlobalOptions;
    policy: RunPolicyOptions;
    /** The run this one continues (`resume`). */
    resumes?: RunSummary | undefined;
    forceTakeover?: boolean | undefined;
    engine?: Engine | undefined;
  },
): Promise<ExecuteResult> {
  const shown: Progress =
    !g.quiet && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 && (process.stderr.rows ?? 0) > 0 && g.output === 'table'
      ? await ttyProgress(plan, process.stderr)
      : plainProgress((s) => process.stderr.write(s));
  const progress = g.quiet ? quietProgress(shown) : shown;
  // A step that runs long says so every 30 s (plain output) and keeps the live list moving.
  const heartbeats = withHeartbeats((e) => progress.emit(e));
  // The plan's concurrency may be below what was asked (one schedulable worker must stay up).
  const lowered = parallelWarning(plan, conn.inventory.upgrade.parallel);
  if (lowered) progress.emit({ kind: 'log', level: 'warn', message: lowered });
  try {
    const execute =
      engine === 'suc'
        ? (await import('../../upgrade/suc/engine.js')).executeSucUpgrade
        : (await import('../../upgrade/run/upgrade-run.js')).executeUpgrade;
    if (engine === 'suc')
      progress.emit({
        kind: 'log',
        level: 'info',
        message: 'engine: system-upgrade-controller does the node work; pve-k3s watches and gates each node',
      });
    const result = await execute(conn, plan, {
      env: process.env,
      emit: heartbeats.emit,
      order: policy.order,
      allowSkew: policy.allowSkew,
      ...(policy.confirm ? { confirm: policy.confirm } : {}),
      ...(policy.confirmedBy ? { confirmedBy: policy.confirmedBy } : {}),
      snapshot: { enabled: conn.inventory.upgrade.snapshot, retention: conn.inventory.upgrade.snapshotRetention },
      ...(resumes ? { resumes } : {}),
      ...(forceTakeover ? { forceTakeover } : {}),
      guard: {
        log: (message) =>
          progress.emit({
            kind: 'log',
            level: message.startsWith('warning: ') ? 'warn' : 'info',
            message: message.replace(/^warning: /, ''),
          }),
        signals: {
          onStop: (sig) =>
            progress.emit({
              kind: 'log',
              level: 'warn',
              message: `${sig}: stopping after the current node (press Ctrl-C again to abort the step in flight now)`,
            }),
        },
      },
    });
    return result;
  } finally {
    heartbeats.stop();
    progress.stop();
  }
}

/** How to run a command in the controller container from the user's machine. */
export function onController(inv: Inventory, argv: string): string {
  const ctrl = inv.nodes.find((n) => n.name === inv.controller)!;
  const host = inv.hosts.find((h) => h.name === ctrl.host)!;
  const cmd = `pct exec ${ctrl.vmid} -- /usr/local/bin/kubectl ${argv}`;
  return host.access.kind === 'ssh'
    ? `ssh ${host.access.destination} ${cmd}`
    : host.access.kind === 'local'
      ? cmd
      : `${cmd}   (on ${host.access.provider} host ${host.name})`;
}

/** What a failed or stopped run of `plan` did and left, and how to go on. */
export function failureReport(inv: Inventory, { plan, result }: { plan: UpgradePlan; result: RunPlanResult }, verbose: boolean): string {
  const lines: string[] = [''];
  if (result.failed) {
    lines.push(formatError(result.failed.error, verbose).text.trimEnd());
    lines.push(`The upgrade stopped at step ${result.failed.step.id}.`);
  } else if (result.interrupted) {
    if (result.stopped) lines.push(`stopped: ${result.stopped.message}`, `  ${result.stopped.hint}`);
    lines.push(`The upgrade was stopped before step ${result.remaining[0]?.id ?? '(none)'}.`);
  }
  lines.push(`Done: ${result.completed.length} of ${planSteps(plan).length} steps.`);
  if (result.leftCordoned.length > 0) {
    lines.push(`Cordoned by this upgrade and NOT uncordoned: ${result.leftCordoned.join(', ')}.`);
    lines.push('  `pve-k3s upgrade` run again resumes and uncordons them when they are back at the target; to uncordon by hand now:');
    for (const n of result.leftCordoned) lines.push(`    ${onController(inv, `uncordon ${n}`)}`);
  } else {
    lines.push('No node was left cordoned.');
  }
  const mid = result.midUpgrade ?? [];
  if (mid.length > 0) {
    lines.push(`Mid-upgrade (installed or restarted, health not confirmed): ${mid.join(', ')}.`);
    for (const n of mid) {
      const spec = inv.nodes.find((x) => x.name === n);
      if (spec)
        lines.push(
          `    check it: pct exec ${spec.vmid} -- systemctl status ${spec.role === 'server' ? 'k3s' : 'k3s-agent'}   (on ${spec.host})`,
        );
    }
  }
  lines.push('Run `pve-k3s resume` to continue this upgrade (it re-reads the cluster first), or `pve-k3s upgrade` to plan afresh.');
  return lines.join('\n') + '\n';
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
