/** `pve-k3s preflight [--fix]`: every check an upgrade makes before it starts, and the known issues of its target. */
import { DOCUMENT_API_VERSION, type PreflightReportDocument } from '../../domain/documents.js';
import type { PreflightReport } from '../../domain/policy.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { confirm } from '../confirm.js';
import { renderPreflight } from '../render-preflight.js';
import { applyRunFlags, planFlags, type PlanCommandFlags } from './upgrade-flags.js';

export interface PreflightFlags extends PlanCommandFlags {
  snapshot?: boolean;
  fix?: boolean;
  yes?: boolean;
}

export async function preflight(g: GlobalOptions, flags: PreflightFlags): Promise<number> {
  return withCluster(g, async (conn0) => {
    const conn = { ...conn0, inventory: await applyRunFlags(conn0.inventory, { snapshot: flags.snapshot }) };
    const { preflightCluster } = await import('../../upgrade/plan/plan-cluster.js');
    const r = await preflightCluster(conn, planFlags(flags));
    const outcome = r.preflight!;
    const report = outcome.report;
    const json = g.output !== 'table';
    let fixed: Array<{ fix: string; ok: boolean; message: string }> = [];
    if (flags.fix && outcome.fixes.length > 0) {
      const { describeIssueFix, applyIssueFixes } = await import('../../upgrade/policy/fixes.js');
      if (!json) {
        out(renderPreflight(report, { verbose: g.verbose }));
        out(`\nThe safe fixes (${outcome.fixes.length}):\n`);
        for (const f of outcome.fixes) out(`  - ${describeIssueFix(f)}\n`);
      }
      const restarts = outcome.fixes.some((f) => f.kind !== 'kube-proxy-arg' || f.restart);
      if (restarts && !flags.yes) {
        const { requireTerminal } = await import('../confirm.js');
        requireTerminal('restart containers', 'review the fixes above and pass --yes');
        if (!(await confirm('Apply them (containers are restarted one at a time)? [y/N] '))) {
          out('Nothing was changed.\n');
          return 1;
        }
      }
      const yaml = await import('yaml');
      const outcomes = await applyIssueFixes({
        inventory: conn.inventory,
        shells: conn.shells,
        fixes: outcome.fixes,
        clock: conn.clock,
        yaml,
        onStart: (f) => {
          if (!json) process.stderr.write(`fixing ${describeIssueFix(f)}\n`);
        },
      });
      fixed = outcomes.map((o) => ({ fix: describeIssueFix(o.fix), ok: o.ok, message: o.message }));
      if (!json) for (const f of fixed) out(`  ${f.ok ? 'fixed' : 'FAILED'}: ${f.fix}: ${f.message}\n`);
      // What the fixes changed is read again: the report says where the cluster stands now.
      const again = await preflightCluster(conn, planFlags(flags));
      if (json) await printDocument(g, document(conn.inventory.cluster, again.preflight!.report, fixed));
      else out(`\nAfter the fixes:\n${renderPreflight(again.preflight!.report, { verbose: g.verbose })}`);
      return fixed.some((f) => !f.ok) || !again.preflight!.report.ok ? 1 : 0;
    }
    if (json) await printDocument(g, document(conn.inventory.cluster, report, fixed));
    else {
      out(renderPreflight(report, { verbose: g.verbose }));
      if (outcome.fixes.length > 0 && !flags.fix)
        out(`${outcome.fixes.length} of these can be fixed safely: run pve-k3s preflight --fix\n`);
    }
    return report.ok ? 0 : 1;
  });
}

function document(cluster: string, report: PreflightReport, fixes: PreflightReportDocument['fixes']): PreflightReportDocument {
  return { apiVersion: DOCUMENT_API_VERSION, kind: 'PreflightReport', cluster, ...report, fixes };
}
