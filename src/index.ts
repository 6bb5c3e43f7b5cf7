/**
 * pve-k3s as a library: the core the command-line tool runs on. Facts in, plan out, steps run:
 *
 * ```ts
 * const inventory = await loadInventory('pve-k3s.yaml');
 * const cluster = await connectCluster(inventory); // a Shell per Proxmox host
 * const facts = await gatherFacts(inventory, cluster.shells);
 * const { target } = await resolveTarget({ version: undefined, channel: 'stable', channelUrl: cluster.channelUrl });
 * const plan = planUpgrade(facts, target); // pure: inspect it, print it, save it
 * const result = await runPlan(plan, { inventory, shells: cluster.shells, emit: console.log });
 * await cluster.close();
 * ```
 *
 * Importing this module does no work and loads no third-party package: yaml and zod load on
 * the first inventory parse. The embedded lab (a
 * simulated Proxmox cluster to try all of this on) is `pve-k3s/lab`.
 * @packageDocumentation
 */

// Facts in: one batched round trip per Proxmox host.
export { gatherFacts, type GatherOptions } from './upgrade/facts/gather.js';

// Plan out: a pure, deterministic planner; the target from a channel or pinned.
export { planUpgrade, DEFAULT_POLICY, type PlanOptions, type PlanPolicy, type PlanTarget } from './upgrade/plan/planner.js';
export { resolveTarget, type TargetChoice, type ResolvedTarget } from './upgrade/plan/target.js';
export { planCluster, type PlanFlags, type ClusterPlan } from './upgrade/plan/plan-cluster.js';

// Steps run: runPlan executes a plan; executeUpgrade is the guarded run the CLI uses.
export { runPlan, type RunPlanOptions, type RunPlanResult } from './upgrade/run/run-plan.js';
export { executeUpgrade, type ExecuteOptions, type ExecuteResult } from './upgrade/run/upgrade-run.js';

// The inventory file and the connection to its hosts (a Shell per Proxmox host).
export { loadInventory, parseInventory, renderInventory, type ParseOptions } from './inventory/index.js';
export type {
  Inventory,
  HostSpec,
  HostAccess,
  NodeSpec,
  DrainPolicy,
  UpgradePolicy,
  K3sSettings,
  ContainerSettings,
  InstallSettings,
} from './inventory/types.js';
export { connectCluster, type ClusterConnection } from './operation/connect.js';

// The Shell boundary every remote effect crosses, and its two real implementations.
export type { Shell, RunOptions, RunResult } from './shell/shell.js';
export type { ScriptSession, SessionRunOptions } from './shell/session.js';
export { LocalShell, type LocalShellOptions } from './shell/local-shell.js';
export { SshShell, type SshShellOptions } from './shell/ssh-shell.js';
export { quoteArg, quoteCommand } from './shell/quote.js';
// Other transports plug in as named shell providers (`pve-k3s/lab` registers `lab` when imported).
export {
  registerShellProvider,
  hasShellProvider,
  type ShellProvider,
  type ProviderSession,
  type ProviderContext,
  type ProviderSettings,
} from './shell/provider.js';

// Errors: one class per boundary, each with a one-line message, a hint and an exit status.
export {
  PveK3sError,
  InventoryError,
  UsageError,
  PlanError,
  ChannelError,
  ShellError,
  RunError,
  KubeError,
  FileError,
  ResponseError,
  InterruptedError,
  AbortedError,
  BugError,
  type ErrorOptions,
  type ExitCode,
  type KubeErrorReason,
  type PlanErrorReason,
} from './domain/errors.js';
export { classifyKubectl, type KubeFailure } from './kube/kube-error.js';
export { InventoryValidationError, type InventoryIssue } from './inventory/issues.js';
export { ClusterBusyError, LeaseLostError } from './operation/guard.js';
export { LeaseError } from './operation/lease.js';
export { JournalError } from './operation/journal.js';
export { RolledBackError } from './upgrade/run/steps.js';

// The domain: versions, facts, the plan, progress events, the release index.
export {
  parseVersion,
  tryParseVersion,
  compareVersions,
  versionsEqual,
  minorChannel,
  K3S_VERSION_RE,
  type K3sVersion,
} from './domain/version.js';
export type { Role, UpgradeOrder } from './domain/roles.js';
export {
  CORDON_ANNOTATION,
  type ClusterFacts,
  type NodeFacts,
  type KubeNodeFacts,
  type ContainerState,
  type Relocation,
} from './domain/facts.js';
export {
  PLAN_API_VERSION,
  planSteps,
  type UpgradePlan,
  type Phase,
  type PhaseOrder,
  type Step,
  type StepKind,
  type NodePlan,
  type NodeAction,
} from './domain/plan.js';
export type { RunEvent, Emit } from './domain/events.js';
export { latestOfMinor, type ReleaseIndex } from './domain/release-index.js';

// The versioned documents of `-o json` (the UpgradePlan above is one too).
export {
  DOCUMENT_API_VERSION,
  type UpgradeResultDocument,
  type UpgradeRunDocument,
  type UpgradeNothingToDoDocument,
  type ClusterStatusDocument,
  type NodeStatusDocument,
} from './domain/documents.js';

/** The version of this package. */
export { PACKAGE_VERSION as version } from './version.js';
