/**
 * Drain policy, health gate and snapshot flags shared by `upgrade` and `resume` (over the
 * inventory's). Each command chains them itself: commander's inferred option types over a
 * generic "add these to any command" helper make tsc take minutes.
 */
import { Option } from '../program.js';

export const RUN_OPTIONS = {
  snapshot: new Option('--snapshot', 'pct snapshot each container before its upgrade; roll a worker back if it fails its health gate'),
  noSnapshot: new Option('--no-snapshot', 'no snapshots, whatever upgrade.snapshot says'),
  disableEviction: new Option('--disable-eviction', 'drain by deleting pods (bypasses PodDisruptionBudgets; the default)'),
  noDisableEviction: new Option('--no-disable-eviction', 'drain by evicting pods (respects PodDisruptionBudgets)'),
  drainTimeout: new Option('--drain-timeout <duration>', 'kubectl drain --timeout (e.g. 5m)'),
  drainForce: new Option('--drain-force', 'kubectl drain --force: also delete pods without a controller'),
  drainGracePeriod: new Option('--drain-grace-period <duration>', 'kubectl drain --grace-period'),
  skipWaitForDeleteTimeout: new Option('--skip-wait-for-delete-timeout <duration>', 'kubectl drain --skip-wait-for-delete-timeout'),
  drainOnTimeout: new Option('--drain-on-timeout <action>', 'when an evicting drain times out').choices([
    'fail',
    'disable-eviction',
  ] as const),
  readyTimeout: new Option(
    '--ready-timeout <duration>',
    'how long each node may take to pass its health gate (default upgrade.readyTimeout)',
  ),
  parallel: new Option(
    '--parallel <n>',
    'upgrade up to n workers at once (default upgrade.parallel, 1: one by one); one schedulable worker always stays up',
  ),
} as const;
