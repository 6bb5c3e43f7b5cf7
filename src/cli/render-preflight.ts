/** The preflight report for people: problems with their fix, passing checks one line each. */
import type { PreflightReport, PreflightResult } from '../domain/policy.js';

const LABEL: Record<PreflightResult['status'], string> = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', ignored: 'ign ' };

export function renderPreflight(report: PreflightReport, o: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const width = Math.max(...report.checks.map((c) => c.length));
  const pad = ' '.repeat(width + 8);
  for (const id of report.checks) {
    const rs = report.results.filter((r) => r.id === id);
    const bad = rs.filter((r) => r.status !== 'pass');
    if (bad.length === 0) {
      const one = rs.length === 1 ? rs[0] : undefined;
      lines.push(`${LABEL.pass}  ${id.padEnd(width)}  ${one ? `${one.scope}: ${one.message}` : `${rs.length} of ${rs.length} ok`}`);
      continue;
    }
    for (const r of bad) {
      lines.push(`${LABEL[r.status]}  ${id.padEnd(width)}  ${r.scope}: ${r.message}`);
      if (r.fix && r.status !== 'ignored') lines.push(`${pad}fix:  ${r.fix}${r.fixable ? ' [--fix]' : ''}`);
      if (o.verbose && r.links) for (const l of r.links) lines.push(`${pad}see:  ${l}`);
    }
  }
  lines.push('', summary(report));
  return lines.join('\n') + '\n';
}

/** `12 checks: 2 failed, 1 warning, 1 ignored` (target included when known). */
export function summary(report: PreflightReport): string {
  const n = (s: PreflightResult['status']) => new Set(report.results.filter((r) => r.status === s).map((r) => `${r.id} ${r.scope}`)).size;
  const parts = [
    n('fail') ? `${n('fail')} failed` : '',
    n('warn') ? `${n('warn')} warning${n('warn') > 1 ? 's' : ''}` : '',
    n('ignored') ? `${n('ignored')} ignored` : '',
  ].filter(Boolean);
  const head = `preflight${report.target ? ` for ${report.target}` : ''}: ${report.checks.length} checks`;
  return parts.length === 0 ? `${head}, all passed` : `${head}: ${parts.join(', ')}`;
}

/** The few lines a plan shows: the summary, then each problem with its fix. */
export function renderPreflightBrief(report: PreflightReport): string {
  const lines = [summary(report).replace(/^preflight/, 'Preflight')];
  for (const r of report.results) {
    if (r.status === 'pass') continue;
    lines.push(`  ${LABEL[r.status].trim()} ${r.id} ${r.scope}: ${r.message}`);
    if (r.fix && r.status !== 'ignored') lines.push(`       fix: ${r.fix}`);
  }
  return lines.join('\n') + '\n';
}
