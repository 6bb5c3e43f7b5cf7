/** `pve-k3s doctor [node] [--fix]`: the known k3s-in-LXC problems, each with cause and fix. */
import { UsageError } from '../../domain/errors.js';
import { parseVersion } from '../../domain/version.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { renderDoctor } from '../../doctor/report.js';
import type { CheckResult } from '../../doctor/doctor.js';

export interface DoctorFlags {
  fix?: boolean;
  /** Do not ask before a fix restarts a container (or k3s). */
  yes?: boolean;
  /** Also check the known issues against this version (what an upgrade to it would break). */
  k3sVersion?: string;
  /** Also check that k3s's scheduler, controller-manager and etcd metrics can be scraped from outside. */
  metrics?: boolean;
}

export const DOCTOR_API_VERSION = 'pve-k3s.io/v1';

export async function doctor(g: GlobalOptions, node: string | undefined, flags: DoctorFlags): Promise<number> {
  return withCluster(g, async (conn) => {
    const inv = conn.inventory;
    if (node !== undefined && !inv.nodes.some((n) => n.name === node)) {
      throw new UsageError(`no node "${node}" in the inventory`, { hint: `nodes: ${inv.nodes.map((n) => n.name).join(', ')}` });
    }
    // Checked by the option validation (src/cli/validate.ts) before the command runs.
    const target = flags.k3sVersion === undefined ? undefined : parseVersion(flags.k3sVersion);
    const { gatherFacts } = await import('../../upgrade/facts/gather.js');
    const { probeForDoctor, runChecks, describeFix, fixesOf, restarts, knownIssueChecks } = await import('../../doctor/doctor.js');
    const { probePolicy } = await import('../../upgrade/policy/probe.js');
    const { upgradeState } = await import('../../status/upgrade-state.js');
    const { stateDir } = await import('../../inventory/index.js');
    const { combineShells } = await import('../../proxmox/combine.js');
    // The policy probe (the known issues) does not need the facts: it goes at the same time, in the same request per host.
    const combined = combineShells(conn.shells).shells;
    const [facts, probe] = await Promise.all([gatherFacts(inv, combined), probePolicy(inv, combined)]);
    const hosts = await probeForDoctor({ inventory: inv, shells: conn.shells, facts });
    const { parse } = await import('yaml');
    const results = [
      ...runChecks({
        inv,
        facts,
        hosts,
        upgrade: upgradeState(stateDir(process.env), inv.cluster, facts),
        ...(node !== undefined ? { only: node } : {}),
      }),
      ...knownIssueChecks({ inv, facts, probe, target, parseYaml: (text) => parse(text) as unknown, only: node }),
    ];
    if (flags.metrics) results.push(...(await metricsChecks(conn, facts, node)));
    const problems = results.filter((r) => r.status === 'fail' || r.status === 'warn');
    const fixes = fixesOf(results);
    const apply = async () => {
      if (fixes.some(restarts) && !flags.yes) {
        const { confirm, requireTerminal } = await import('../confirm.js');
        requireTerminal('restart containers', 'review the fixes above and pass --yes');
        if (!(await confirm('Apply them (containers are restarted one at a time)? [y/N] '))) return undefined;
      }
      return applyGuarded(conn, fixes);
    };
    let fixed: Awaited<ReturnType<typeof applyGuarded>> = [];
    if (g.output !== 'table') {
      if (flags.fix && fixes.length > 0) fixed = (await apply()) ?? [];
      await printDocument(g, {
        apiVersion: DOCTOR_API_VERSION,
        kind: 'DoctorReport',
        cluster: inv.cluster,
        ...(target ? { target: target.raw } : {}),
        summary: {
          ok: results.filter((r) => r.status === 'ok').length,
          warn: results.filter((r) => r.status === 'warn').length,
          fail: results.filter((r) => r.status === 'fail').length,
          skip: results.filter((r) => r.status === 'skip').length,
        },
        results: results.map(({ autoFix, ...r }) => ({ ...r, fixable: autoFix !== undefined })),
        fixes: fixed.map((f) => ({ fix: describeFix(f.fix), ok: f.ok, message: f.message })),
      });
    } else {
      out(renderDoctor(results));
      if (fixes.length > 0 && !flags.fix) out(`\n${fixes.length} of these can be fixed safely: run pve-k3s doctor --fix\n`);
      if (flags.fix) {
        if (fixes.length === 0) out('\nNothing that --fix can repair.\n');
        else {
          out('\nApplying the safe fixes:\n');
          for (const f of fixes) out(`  - ${describeFix(f)}\n`);
          const done = await apply();
          if (!done) {
            out('Nothing was changed.\n');
            return 1;
          }
          fixed = done;
          for (const f of fixed) out(`  ${f.ok ? 'fixed' : 'FAILED'}: ${describeFix(f.fix)}: ${f.message}\n`);
        }
      }
    }
    if (fixed.some((f) => !f.ok)) return 1;
    return problems.length > 0 && !(flags.fix && fixed.length > 0 && problems.every((p) => p.autoFix)) ? 1 : 0;
  });
}

/**
 * The fixes change the cluster: they run as a guarded operation (refused while another one
 * holds the cluster lease, journaled). A cluster whose API does not answer is what doctor is
 * for: the fixes then go on without the lease. `guard`: the guard's environment. @default from
 * the process environment
 */
export async function applyGuarded(
  conn: import('../../operation/connect.js').ClusterConnection,
  fixes: import('../../doctor/doctor.js').Fix[],
  guard?: import('../../operation/guard.js').GuardEnv,
): Promise<import('../../doctor/doctor.js').FixOutcome[]> {
  const [{ applyFixes }, { guarded, guardEnvFor }] = await Promise.all([
    import('../../doctor/doctor.js'),
    import('../../operation/guard.js'),
  ]);
  const nodes = [...new Set(fixes.map((f) => (f.kind === 'issue' ? f.fix.node : 'node' in f ? f.node : `host ${f.host}`)))];
  return guarded(
    guard ?? guardEnvFor(conn, process.env),
    { operation: 'doctor --fix', args: nodes, steps: 1, clusterMayNotExist: true },
    (g) =>
      g.step('doctor/fix', nodes.join(','), () =>
        applyFixes({ inventory: conn.inventory, shells: conn.shells, fixes, clock: conn.clock, signal: g.signal }),
      ),
  );
}

/** One more round trip per server: its listening sockets and k3s config (src/doctor/metrics-exposure.ts). */
async function metricsChecks(
  conn: import('../../operation/connect.js').ClusterConnection,
  facts: import('../../domain/facts.js').ClusterFacts,
  only: string | undefined,
): Promise<CheckResult[]> {
  const [{ METRICS_SCRIPT, metricsExposureChecks }, { Pct }] = await Promise.all([
    import('../../doctor/metrics-exposure.js'),
    import('../../proxmox/pct.js'),
  ]);
  const servers = conn.inventory.nodes.filter((n) => n.role === 'server' && (only === undefined || n.name === only));
  const per = await Promise.all(
    servers.map(async (n) => {
      const shell = conn.shells.get(n.host);
      const running = facts.nodes.find((f) => f.name === n.name)?.container === 'running';
      if (!shell || !running) return metricsExposureChecks(n.name, undefined);
      const r = await new Pct(shell).execScript(n.vmid, METRICS_SCRIPT, { timeoutMs: 60_000 }).catch(() => undefined);
      return metricsExposureChecks(n.name, r && r.code === 0 ? r.stdout : undefined);
    }),
  );
  return per.flat();
}

export { renderDoctor } from '../../doctor/report.js';
