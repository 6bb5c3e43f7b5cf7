/**
 * The versioned documents pve-k3s prints with `-o json|yaml`, for scripts that read them. The
 * UpgradePlan (plan.ts) is one too, and the only one pve-k3s reads back (`upgrade --plan FILE`):
 * it has its own apiVersion (PLAN_API_VERSION, v2 since it records the preflight and policy a
 * saved plan was reviewed with).
 * A field is only ever added within one apiVersion; renaming or removing one means a new version.
 */
import type { ContainerState } from './facts.js';
import type { Role } from './roles.js';
import type { UpgradePlan } from './plan.js';
import type { PreflightReport } from './policy.js';

/** The apiVersion of every document pve-k3s writes. */
export const DOCUMENT_API_VERSION = 'pve-k3s.io/v1';

/** `upgrade -o json` and `resume -o json` when there was nothing to do. */
export interface UpgradeNothingToDoDocument {
  apiVersion: typeof DOCUMENT_API_VERSION;
  kind: 'UpgradeResult';
  ok: true;
  nothingToDo: true;
  plan: UpgradePlan;
}

/** `upgrade -o json` and `resume -o json` after a run: what it did and what it left. */
export interface UpgradeRunDocument {
  apiVersion: typeof DOCUMENT_API_VERSION;
  kind: 'UpgradeResult';
  ok: boolean;
  /** The run id in the journal (absent when run without one). */
  run?: string;
  /** The run this one continued (`resume`). */
  resumed?: string;
  target: UpgradePlan['target'];
  /** Step ids, in the order they finished. */
  completed: string[];
  failed: { step: string; node: string; message: string; hint: string | null } | null;
  /** Step ids never started. */
  remaining: string[];
  /** Nodes cordoned by pve-k3s and not uncordoned. */
  leftCordoned: string[];
  /** Nodes installed or restarted whose health gate did not pass. */
  midUpgrade: string[];
  interrupted: boolean;
}

export type UpgradeResultDocument = UpgradeNothingToDoDocument | UpgradeRunDocument;

/** One node of `status -o json`. */
export interface NodeStatusDocument {
  name: string;
  role: Role;
  host: string;
  vmid: number;
  container: ContainerState;
  lock: string | null;
  /** The installed k3s version; `none` when k3s is not installed, null when it could not be read. */
  installed: string | null;
  installedError: string | null;
  kubelet: string | null;
  ready: boolean | null;
  schedulable: boolean | null;
  /** The target version pve-k3s cordoned the node for, when it did. */
  cordonedByPveK3s: string | null;
  upToDate: boolean;
}

/** `status -o json`. */
export interface ClusterStatusDocument {
  apiVersion: typeof DOCUMENT_API_VERSION;
  kind: 'ClusterStatus';
  cluster: string;
  controller: string;
  target: { version: string | null; source: string | null; error: string | null };
  nodes: NodeStatusDocument[];
  problems: { hosts: Record<string, string>; kubectl: string | null };
}

/** `preflight -o json`: the report, and what `--fix` did. */
export interface PreflightReportDocument extends PreflightReport {
  apiVersion: typeof DOCUMENT_API_VERSION;
  kind: 'PreflightReport';
  cluster: string;
  fixes: Array<{ fix: string; ok: boolean; message: string }>;
}
