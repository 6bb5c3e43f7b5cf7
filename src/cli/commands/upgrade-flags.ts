/** The flags of `plan`, `upgrade` and `resume`, and how they apply over the inventory's settings. */
import { parseDuration } from '../../inventory/duration.js';
import { UsageError } from '../../domain/errors.js';
import type { UpgradeOrder, Inventory } from '../../inventory/types.js';
import type { PlanFlags } from '../../upgrade/plan/plan-cluster.js';
import { parseIgnores } from '../../upgrade/policy/preflight.js';

/** Who does the node work: pve-k3s over SSH, or system-upgrade-controller. */
export type Engine = 'ssh' | 'suc';

export interface PlanCommandFlags {
  channel?: string;
  version?: string;
  order?: UpgradeOrder;
  allowSkew?: boolean;
  /** Who does the node work: pve-k3s over SSH, or system-upgrade-controller. @default "ssh" */
  engine?: Engine;
  /** --node (repeatable): only these nodes. */
  node?: string[];
  /** --exclude (repeatable): never these nodes. */
  exclude?: string[];
  canary?: string;
  canarySoak?: string;
  soak?: string;
  /** --window "[DAYS] START-END [TZ]" (over upgrade.window). */
  window?: string;
  prometheusUrl?: string;
  alertFilterRegexp?: string;
  alertFiringOnly?: boolean;
  alertFilterMatchOnly?: boolean;
  blockingPodSelector?: string[];
  gateTimeout?: string;
  notify?: string[];
  /** --ignore-preflight (repeatable, comma-separated ids). */
  ignorePreflight?: string[];
}

export interface UpgradeFlags extends PlanCommandFlags {
  yes?: boolean;
  waitForWindow?: boolean;
  dryRun?: boolean;
  plan?: string;
  snapshot?: boolean;
  disableEviction?: boolean;
  drainTimeout?: string;
  drainForce?: boolean;
  drainGracePeriod?: string;
  skipWaitForDeleteTimeout?: string;
  drainOnTimeout?: 'fail' | 'disable-eviction';
  readyTimeout?: string;
  parallel?: string;
}

/** Applies the drain, health-gate and snapshot flags over the inventory's settings. */
export async function applyRunFlags(inv: Inventory, f: UpgradeFlags): Promise<Inventory> {
  const dur = durationFlag;
  const drain = { ...inv.drain };
  if (f.disableEviction !== undefined) drain.disableEviction = f.disableEviction;
  if (f.drainForce !== undefined) drain.force = f.drainForce;
  if (f.drainOnTimeout !== undefined) drain.onTimeout = f.drainOnTimeout;
  drain.timeoutSeconds = dur('drain-timeout', f.drainTimeout) ?? drain.timeoutSeconds;
  drain.gracePeriodSeconds = dur('drain-grace-period', f.drainGracePeriod) ?? drain.gracePeriodSeconds;
  drain.skipWaitForDeleteTimeoutSeconds =
    dur('skip-wait-for-delete-timeout', f.skipWaitForDeleteTimeout) ?? drain.skipWaitForDeleteTimeoutSeconds;
  const upgrade = { ...inv.upgrade };
  if (f.snapshot !== undefined) upgrade.snapshot = f.snapshot;
  upgrade.readyTimeoutSeconds = dur('ready-timeout', f.readyTimeout) ?? upgrade.readyTimeoutSeconds;
  if (f.parallel !== undefined) {
    const n = Number(f.parallel);
    if (!Number.isInteger(n) || n < 1 || n > 100)
      throw new UsageError(`--parallel must be a whole number from 1 to 100, got "${f.parallel}"`);
    upgrade.parallel = n;
  }
  return { ...inv, drain, upgrade };
}

/** A duration flag in seconds (`90`, `90s`, `10m`, `1h30m`); a usage error naming the flag when it is not one. */
export function durationFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = parseDuration(/^\d+$/.test(v) ? Number(v) : v);
  if (s === undefined)
    throw new UsageError(`--${flag}: invalid duration "${v}"`, { hint: 'write seconds (90) or units: 90s, 5m, 1h, 1m30s' });
  return s;
}

/** The policy flags over the inventory's upgrade policy (window, gates, notifications): what the run enforces. */
export type PolicyFlags = Pick<
  PlanCommandFlags,
  | 'window'
  | 'prometheusUrl'
  | 'alertFilterRegexp'
  | 'alertFiringOnly'
  | 'alertFilterMatchOnly'
  | 'blockingPodSelector'
  | 'gateTimeout'
  | 'notify'
>;

export async function applyPolicyFlags(inv: Inventory, f: PolicyFlags): Promise<Inventory> {
  const upgrade = { ...inv.upgrade };
  if (f.prometheusUrl !== undefined) {
    if (!URL.canParse(f.prometheusUrl) || !/^https?:$/.test(new URL(f.prometheusUrl).protocol))
      throw new UsageError(`--prometheus-url: "${f.prometheusUrl}" is not an http(s) URL`, {
        hint: 'e.g. --prometheus-url http://prometheus.monitoring:9090',
      });
    upgrade.prometheusUrl = f.prometheusUrl;
  }
  if (f.alertFilterRegexp !== undefined) {
    try {
      new RegExp(f.alertFilterRegexp);
    } catch (err) {
      throw new UsageError(`--alert-filter-regexp: ${(err as Error).message}`, {
        hint: 'e.g. --alert-filter-regexp "^(Watchdog|InfoInhibitor)$"',
      });
    }
    upgrade.alertFilterRegexp = f.alertFilterRegexp;
  }
  if (f.notify?.length) {
    const { parseNotifyTarget } = await import('../../upgrade/policy/notify.js');
    for (const u of f.notify)
      if (!parseNotifyTarget(u))
        throw new UsageError(`--notify: "${u}" is not a webhook URL`, {
          hint: 'write an http(s) URL, optionally with its format first: ntfy+https://ntfy.sh/my-topic, slack+https://..., discord+https://...',
        });
    upgrade.notify = f.notify;
  }
  if (f.alertFiringOnly) upgrade.alertFiringOnly = true;
  if (f.alertFilterMatchOnly) upgrade.alertFilterMatchOnly = true;
  if (f.blockingPodSelector?.length) upgrade.blockingPodSelector = f.blockingPodSelector;
  const gateTimeout = durationFlag('gate-timeout', f.gateTimeout);
  if (gateTimeout !== undefined) upgrade.gateTimeoutSeconds = gateTimeout;
  if (upgrade.alertFilterMatchOnly && !upgrade.alertFilterRegexp)
    throw new UsageError(
      '--alert-filter-match-only needs --alert-filter-regexp (or upgrade.alertFilterRegexp): only the alerts it matches block',
      {},
    );
  if ((upgrade.alertFilterRegexp || upgrade.alertFiringOnly) && !upgrade.prometheusUrl)
    throw new UsageError('an alert filter without --prometheus-url (or upgrade.prometheusUrl) has no alerts to filter', {
      hint: 'add --prometheus-url, or drop the alert options',
    });
  if (f.window !== undefined) {
    const { parseWindowFlag } = await import('../../upgrade/policy/window-gate.js');
    upgrade.window = parseWindowFlag(f.window);
  }
  return { ...inv, upgrade };
}

export function planFlags(f: PlanCommandFlags): PlanFlags {
  return {
    canarySoakSeconds: durationFlag('canary-soak', f.canarySoak),
    soakSeconds: durationFlag('soak', f.soak),
    version: f.version,
    channel: f.channel,
    order: f.order,
    allowSkew: f.allowSkew,
    nodes: f.node,
    exclude: f.exclude,
    canary: f.canary,
    ignorePreflight: parseIgnores(f.ignorePreflight),
  };
}
