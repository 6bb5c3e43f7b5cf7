/** The doctor's report as a table: passing checks one line per check; each problem with its cause and fix. */
import type { CheckResult } from './types.js';

const LABEL: Record<CheckResult['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** Passing checks one line per check; each problem with its cause and fix. */
export function renderDoctor(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  const checks = [...new Set(results.map((r) => r.check))];
  const width = Math.max(...checks.map((c) => c.length));
  for (const c of checks) {
    const rs = results.filter((r) => r.check === c);
    const bad = rs.filter((r) => r.status === 'fail' || r.status === 'warn');
    const okCount = rs.filter((r) => r.status === 'ok').length;
    if (bad.length === 0) {
      const one = rs.length === 1 ? rs[0] : undefined;
      lines.push(
        `${okCount > 0 ? LABEL.ok : LABEL.skip}  ${c.padEnd(width)}  ${one ? `${one.scope}: ${one.message}` : `${okCount} of ${rs.length} ok${rs.length > okCount ? ` (${rs.length - okCount} skipped)` : ''}`}`,
      );
      continue;
    }
    for (const r of bad) {
      lines.push(`${LABEL[r.status]}  ${c.padEnd(width)}  ${r.scope}: ${r.message}`);
      if (r.cause) lines.push(`${' '.repeat(width + 8)}cause: ${r.cause}`);
      if (r.fix) lines.push(`${' '.repeat(width + 8)}fix:   ${r.fix}${r.autoFix ? ' [--fix]' : ''}`);
    }
  }
  const n = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  lines.push('', `${n('fail')} failed, ${n('warn')} warning(s), ${n('ok')} ok, ${n('skip')} skipped`);
  return lines.join('\n') + '\n';
}
