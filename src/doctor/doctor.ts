/**
 * `doctor`: the known ways k3s breaks in Proxmox LXC, each checked and, on failure, explained
 * (cause, fix). Facts come from gatherFacts (one round trip per host) plus ONE more batched
 * round trip per host (./host-probe.ts): storage.cfg, /proc/modules, each container's raw
 * conf, and one `pct exec` per running node for what only the inside shows (./node-script.ts).
 * Checks are pure functions of those facts (./checks*.ts); `--fix` applies only the safe fixes
 * (./fixes.ts); the known-issue catalogue of the upgrade policy runs too (./known-issues.ts);
 * ./report.ts renders the result.
 */
export { CHECKS, type CheckResult, type CheckStatus, type Fix, type HostProbe, type NodeProbe } from './types.js';
export { NODE_SCRIPT, parseNodeProbe } from './node-script.js';
export { parseStorageCfg, probeForDoctor, type DoctorProbeInput } from './host-probe.js';
export { runChecks, type DoctorInput } from './checks.js';
export { applyFixes, describeFix, fixesOf, restarts, type ApplyFixesInput, type FixOutcome } from './fixes.js';
export { knownIssueChecks, KNOWN_ISSUE_CHECKS, type KnownIssueInput } from './known-issues.js';
