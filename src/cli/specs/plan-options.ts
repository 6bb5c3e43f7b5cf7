/** The options `plan`, `preflight` and `upgrade` share: the target, the order, which nodes, the preflight. */
import { Command, Option } from '../program.js';

/** A command with the target and order options (typed, for plan and upgrade). */
export function planCommand(name: string) {
  return new Command(name)
    .option('--channel <name>', "release channel to take the target from (default: the inventory's, else stable)")
    .option('--k3s-version <version>', 'pin the target version, e.g. v1.33.5+k3s1 (k3sup spells it the same)')
    .addOption(new Option('--version <version>', 'old spelling of --k3s-version').hideHelp())
    .addOption(new Option('--order <order>', 'upgrade order').choices(['auto', 'workers-first', 'servers-first'] as const))
    .option('--allow-skew', 'allow a plan that makes a kubelet newer than its apiserver')
    .addOption(
      new Option('--engine <engine>', 'who does the node work: ssh (pve-k3s, from this machine) or suc (system-upgrade-controller Plans)')
        .choices(['ssh', 'suc'] as const)
        .default('ssh' as const),
    )
    .option('--node <name>', 'upgrade only this node (repeat for more); the skew rules may need others along', collect)
    .option('--exclude <name>', 'leave this node at its version (repeatable)', collect)
    .option('--canary <node>', 'upgrade this node first, alone (default upgrade.canary)')
    .option('--canary-soak <duration>', 'the canary must stay healthy this long before the rest go (default upgrade.canarySoak; none: ask)')
    .option('--soak <duration>', 'each node must stay healthy this long before the next one starts (default upgrade.soak)')
    .option(
      '--window <spec>',
      'maintenance window "[DAYS] START-END [TIME-ZONE]", e.g. "sat,sun 22:00-04:00 Europe/Berlin" (default upgrade.window)',
    )
    .option('--prometheus-url <url>', 'no node starts while an alert is active there (GET /api/v1/alerts; default upgrade.prometheusUrl)')
    .option('--alert-filter-regexp <regexp>', 'as kured: ignore active alerts whose name matches (default upgrade.alertFilterRegexp)')
    .option('--alert-firing-only', 'as kured: only firing alerts block, not pending ones')
    .option('--alert-filter-match-only', 'as kured: only alerts matching --alert-filter-regexp block')
    .option(
      '--blocking-pod-selector <selector>',
      'as kured: a node does not start while pods matching this run on it (repeatable: OR)',
      collect,
    )
    .option('--gate-timeout <duration>', 'how long a closed gate may hold the next node back before the run stops (default 1h)')
    .option(
      '--notify <url>',
      'POST the run start, each node and the end to this webhook ([ntfy+|slack+|discord+|generic+]URL; repeatable)',
      collect,
    )
    .addOption(IGNORE_PREFLIGHT);
}

/** Repeatable options collect their values. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

export const IGNORE_PREFLIGHT = new Option(
  '--ignore-preflight <ids>',
  'go on despite these failed preflight checks (comma-separated, repeatable; all = every one)',
).argParser(collect);

/** --k3s-version, else its old spelling --version. */
export function targetVersion(o: { k3sVersion?: string | undefined; version?: string | undefined }): string | undefined {
  return o.k3sVersion ?? o.version;
}
