/**
 * The known k3s-in-LXC issues of the upgrade policy's catalogue (src/upgrade/policy/known-issues/)
 * as doctor checks: against the version each node runs now, and, when a target is given,
 * against that version too (what an upgrade to it would break). Pure; the probe is the
 * preflight's (src/upgrade/policy/probe.ts).
 */
import type { ClusterFacts } from '../domain/facts.js';
import type { PreflightResult } from '../domain/policy.js';
import type { K3sVersion } from '../domain/version.js';
import type { Inventory } from '../inventory/types.js';
import { KNOWN_ISSUES, type IssueFix, type KnownIssue } from '../upgrade/policy/known-issues/index.js';
import { runPreflight, type YamlParse } from '../upgrade/policy/preflight.js';
import type { PolicyProbe } from '../upgrade/policy/probe.js';
import type { CheckResult } from './types.js';

/** The catalogue's ids, in the order doctor prints them (after its own checks). */
export const KNOWN_ISSUE_CHECKS: readonly string[] = KNOWN_ISSUES.map((k) => k.id);

export interface KnownIssueInput {
  inv: Inventory;
  facts: ClusterFacts;
  probe: PolicyProbe;
  /** Also check the catalogue as if every node ran this version. */
  target?: K3sVersion | undefined;
  parseYaml: YamlParse;
  /** Only this node's findings (and the cluster's). */
  only?: string | undefined;
}

export function knownIssueChecks(input: KnownIssueInput): CheckResult[] {
  const base = {
    inv: input.inv,
    facts: input.facts,
    probe: input.probe,
    plan: undefined,
    planError: undefined,
    snapshot: false,
    ignore: [],
    parseYaml: input.parseYaml,
  };
  const now = findings(runPreflight({ ...base, target: undefined, installed: true }));
  const target = input.target;
  const then = target ? findings(runPreflight({ ...base, target })) : [];
  const out: CheckResult[] = [];
  for (const k of KNOWN_ISSUES) {
    const mine = (list: Finding[]) =>
      list.filter((f) => f.result.id === k.id && (input.only === undefined || f.result.scope === input.only));
    const current = mine(now);
    // What an upgrade would break besides what is broken now (one finding per node: the current one wins).
    const later = mine(then).filter((t) => !current.some((c) => c.result.scope === t.result.scope && c.result.status !== 'pass'));
    const bad = (list: Finding[]) => list.filter((f) => f.result.status === 'fail' || f.result.status === 'warn');
    if (bad(current).length === 0 && bad(later).length === 0) {
      out.push({
        check: k.id,
        scope: input.only ?? 'cluster',
        status: 'ok',
        message: `not affected${target ? `, nor after an upgrade to ${target.raw}` : ''} (${k.affects})`,
      });
      continue;
    }
    for (const f of bad(current)) out.push(toCheck(k, f, ''));
    for (const f of bad(later)) out.push(toCheck(k, f, `after an upgrade to ${target?.raw ?? ''}: `));
  }
  return out;
}

interface Finding {
  result: PreflightResult;
  fix: IssueFix | undefined;
}

/** The preflight's results with the fix of each fixable one (the fixes come in the order of the fixable results). */
function findings(outcome: ReturnType<typeof runPreflight>): Finding[] {
  const fixes = [...outcome.fixes];
  return outcome.report.results.map((result) => ({ result, fix: result.fixable ? fixes.shift() : undefined }));
}

function toCheck(k: KnownIssue, f: Finding, prefix: string): CheckResult {
  const r = f.result;
  return {
    check: k.id,
    scope: r.scope,
    status: r.status === 'warn' ? 'warn' : 'fail',
    message: `${prefix}${r.message}`,
    cause: `${k.title} (${k.affects}); see ${k.links.join(' ')}`,
    ...(r.fix !== undefined ? { fix: r.fix } : {}),
    ...(f.fix ? { autoFix: { kind: 'issue' as const, fix: f.fix } } : {}),
  };
}
