/** The UpgradeResult document of `upgrade -o json` and `resume -o json`. */
import { DOCUMENT_API_VERSION, type UpgradeNothingToDoDocument, type UpgradeRunDocument } from '../../domain/documents.js';
import type { UpgradePlan } from '../../domain/plan.js';
import type { RunPlanResult } from './run-plan.js';

export function nothingToDoDocument(plan: UpgradePlan): UpgradeNothingToDoDocument {
  return { apiVersion: DOCUMENT_API_VERSION, kind: 'UpgradeResult', ok: true, nothingToDo: true, plan };
}

/** What a run did and left; `run` is its journal id, `resumed` the run it continued. */
export function upgradeResultDocument(
  plan: UpgradePlan,
  r: RunPlanResult,
  ids: { run?: string | undefined; resumed?: string | undefined } = {},
): UpgradeRunDocument {
  return {
    apiVersion: DOCUMENT_API_VERSION,
    kind: 'UpgradeResult',
    ok: r.ok,
    ...(ids.run === undefined ? {} : { run: ids.run }),
    ...(ids.resumed === undefined ? {} : { resumed: ids.resumed }),
    target: plan.target,
    completed: r.completed.map((s) => s.id),
    failed: r.failed
      ? { step: r.failed.step.id, node: r.failed.step.node, message: r.failed.error.message, hint: r.failed.error.hint ?? null }
      : null,
    remaining: r.remaining.map((s) => s.id),
    leftCordoned: r.leftCordoned,
    midUpgrade: r.midUpgrade,
    interrupted: r.interrupted,
  };
}
