/**
 * Is an upgrade in progress or interrupted? Read from the upgrade journal
 * (`<stateDir>/journal/<cluster>.jsonl`, written by src/runner/journal.ts: a `run-start`
 * without a `run-end`, or one that ended `failed`/`stopped`) and from the cluster itself
 * (nodes carrying CORDON_ANNOTATION). Reads the journal's JSON lines directly so status and
 * doctor do not load the runner.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORDON_ANNOTATION, type ClusterFacts } from '../domain/facts.js';

export { CORDON_ANNOTATION };

export interface UpgradeState {
  /** A run was started and not recorded as ended (running now, or its process died). */
  inProgress: boolean;
  /** The last run ended failed or stopped: `pve-k3s upgrade` (or resume) continues it. */
  interrupted: boolean;
  run: string | undefined;
  /** What the last run was (upgrade, uninstall, restore...); journals before other operations were journaled hold only upgrades. */
  operation: string | undefined;
  target: string | undefined;
  startedAt: string | undefined;
  status: string | undefined;
  /** Nodes that carry pve-k3s's cordon annotation now. */
  cordonedByUs: string[];
}

export function journalFile(stateDirectory: string, cluster: string): string {
  return join(stateDirectory, 'journal', `${cluster}.jsonl`);
}

export function upgradeState(stateDirectory: string, cluster: string, facts?: ClusterFacts): UpgradeState {
  const s: UpgradeState = {
    inProgress: false,
    interrupted: false,
    run: undefined,
    operation: undefined,
    target: undefined,
    startedAt: undefined,
    status: undefined,
    cordonedByUs: [],
  };
  s.cordonedByUs = (facts?.nodes ?? []).filter((n) => n.kube?.cordonedByUs !== undefined).map((n) => n.name);
  const file = journalFile(stateDirectory, cluster);
  if (!existsSync(file)) return s;
  let last: { run: string; operation?: string; target?: string; t?: string } | undefined;
  let end: string | undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let r: { type?: string; run?: string; operation?: string; target?: string; t?: string; status?: string };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue; // torn last line
    }
    if (r.type === 'run-start' && r.run) {
      last = { run: r.run, operation: r.operation ?? 'upgrade', ...(r.target ? { target: r.target } : {}), ...(r.t ? { t: r.t } : {}) };
      end = undefined;
    } else if (r.type === 'run-end' && last && r.run === last.run) end = r.status ?? 'done';
  }
  if (!last) return s;
  s.run = last.run;
  s.operation = last.operation;
  s.target = last.target;
  s.startedAt = last.t;
  s.status = end;
  s.inProgress = end === undefined;
  s.interrupted = end === 'failed' || end === 'stopped';
  return s;
}
