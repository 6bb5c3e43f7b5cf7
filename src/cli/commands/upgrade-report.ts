/** What `upgrade` and `resume` say when a run failed or was stopped. */
import { planSteps, type UpgradePlan } from '../../domain/plan.js';
import type { Inventory } from '../../inventory/types.js';
import type { RunPlanResult } from '../../upgrade/run/run-plan.js';
import { formatError } from '../report-error.js';

/** How to run a command in the controller container from the user's machine. */
export function onController(inv: Inventory, argv: string): string {
  const ctrl = inv.nodes.find((n) => n.name === inv.controller)!;
  const host = inv.hosts.find((h) => h.name === ctrl.host)!;
  const cmd = `pct exec ${ctrl.vmid} -- /usr/local/bin/kubectl ${argv}`;
  return host.access.kind === 'ssh'
    ? `ssh ${host.access.destination} ${cmd}`
    : host.access.kind === 'local'
      ? cmd
      : `${cmd}   (on ${host.access.provider} host ${host.name})`;
}

/** What a failed or stopped run of `plan` did and left, and how to go on. */
export function failureReport(inv: Inventory, { plan, result }: { plan: UpgradePlan; result: RunPlanResult }, verbose: boolean): string {
  const lines: string[] = [''];
  if (result.failed) {
    lines.push(formatError(result.failed.error, verbose).text.trimEnd());
    lines.push(`The upgrade stopped at step ${result.failed.step.id}.`);
  } else if (result.interrupted) {
    if (result.stopped) lines.push(`stopped: ${result.stopped.message}`, `  ${result.stopped.hint}`);
    lines.push(`The upgrade was stopped before step ${result.remaining[0]?.id ?? '(none)'}.`);
  }
  lines.push(`Done: ${result.completed.length} of ${planSteps(plan).length} steps.`);
  if (result.leftCordoned.length > 0) {
    lines.push(`Cordoned by this upgrade and NOT uncordoned: ${result.leftCordoned.join(', ')}.`);
    lines.push('  `pve-k3s upgrade` run again resumes and uncordons them when they are back at the target; to uncordon by hand now:');
    for (const n of result.leftCordoned) lines.push(`    ${onController(inv, `uncordon ${n}`)}`);
  } else {
    lines.push('No node was left cordoned.');
  }
  const mid = result.midUpgrade ?? [];
  if (mid.length > 0) {
    lines.push(`Mid-upgrade (installed or restarted, health not confirmed): ${mid.join(', ')}.`);
    for (const n of mid) {
      const spec = inv.nodes.find((x) => x.name === n);
      if (spec)
        lines.push(
          `    check it: pct exec ${spec.vmid} -- systemctl status ${spec.role === 'server' ? 'k3s' : 'k3s-agent'}   (on ${spec.host})`,
        );
    }
  }
  lines.push('Run `pve-k3s resume` to continue this upgrade (it re-reads the cluster first), or `pve-k3s upgrade` to plan afresh.');
  return lines.join('\n') + '\n';
}
