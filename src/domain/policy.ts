/**
 * Upgrade policy as data: which nodes a run may touch, what the preflight found, and the
 * canary, soak, window, gates and notifications a plan records. Types only: the policy
 * module (src/upgrade/policy) computes and enforces them.
 */

/** Why a node is held back from this run (it keeps its version; the plan gives it no step). */
export type HoldReason = 'inventory' | 'excluded' | 'not-selected';

export interface HeldNode {
  node: string;
  reason: HoldReason;
}

/** Which nodes a run may touch: `--node` (repeatable), `--exclude`, `upgrade: false` per node. */
export interface NodeSelection {
  /** `--node`: only these (undefined = every node of the inventory). */
  only?: readonly string[] | undefined;
  /** `--exclude`: never these. */
  exclude?: readonly string[] | undefined;
  /** Nodes with `upgrade: false` in the inventory (a `--node` naming one overrides it). */
  held?: readonly string[] | undefined;
}

export type PreflightStatus = 'pass' | 'warn' | 'fail' | 'ignored';

/** One preflight finding: a check on one scope. */
export interface PreflightResult {
  /** The check id, as `--ignore-preflight` takes it: `node-ready`, `container-lock`, a known issue's id... */
  id: string;
  status: PreflightStatus;
  /** `cluster`, a node name, or `host <name>`. */
  scope: string;
  message: string;
  /** What to do about it (a command where there is one). */
  fix?: string;
  /** `preflight --fix` (and `doctor --fix`) can apply the fix. */
  fixable?: boolean;
  /** Where to read more (known issues). */
  links?: string[];
}

export interface PreflightReport {
  /** No check failed (ignored and warning ones do not count). */
  ok: boolean;
  /** Every check id that ran, in order. */
  checks: string[];
  /** The ids `--ignore-preflight` named (`all` = every one). */
  ignored: string[];
  /** The target the version-dependent checks looked at. */
  target: string | undefined;
  results: PreflightResult[];
}

/** A weekly maintenance window, as SUC's `window` and kured's --reboot-days/--start-time/--end-time/--time-zone. */
export interface UpgradeWindow {
  /** Lower-case English day names, `monday`..`sunday`. */
  days: string[];
  /** `HH:MM`, 24-hour, in `timeZone`. */
  start: string;
  /** `HH:MM`; before `start` means the window runs past midnight. */
  end: string;
  /** An IANA time zone (`Europe/Berlin`), `UTC` by default. */
  timeZone: string;
}

export type NotifyFormat = 'generic' | 'ntfy' | 'slack' | 'discord';

/** How the plan records what the runner does between nodes. URLs are never recorded (they carry tokens). */
export interface RunPolicy {
  /** The node upgraded first, alone, then confirmed or soaked before the rest. */
  canary?: { node: string; /** Seconds it must stay healthy; undefined = ask on the terminal. */ soakSeconds?: number } | undefined;
  /** Seconds each node must stay healthy before the next one starts. */
  soakSeconds?: number | undefined;
  window?: UpgradeWindow | undefined;
  /** Before each node: no matching Prometheus alert firing, no matching pod present. */
  gates?:
    | {
        /** The Prometheus URL without its user, password or query. */
        prometheus?: string | undefined;
        alertFilterRegexp?: string | undefined;
        alertFiringOnly?: boolean | undefined;
        alertFilterMatchOnly?: boolean | undefined;
        blockingPodSelector?: string[] | undefined;
        /** How long a closed gate may hold the next node back before the run stops. */
        timeoutSeconds?: number | undefined;
      }
    | undefined;
  /** Webhook targets, as `format host` (never the URL). */
  notify?: string[] | undefined;
}
