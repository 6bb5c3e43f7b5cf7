/** `pve-k3s plan`: what an upgrade would do. */
import { examples, type Spec } from '../program.js';
import { planCommand, targetVersion } from './plan-options.js';

const plan: Spec = (run) => {
  const cmd = planCommand('plan')
    .summary('show what an upgrade would do (nothing is changed)')
    .description(
      'Show what an upgrade would do, phase by phase and node by node: the target version, the order and why, the ' +
        'skew checks. Nothing is changed. Save it with -o json and run exactly that plan with `upgrade --plan FILE`. ' +
        'With --engine suc, writes the plan as system-upgrade-controller Plans instead (YAML, or a List with -o json), ' +
        'to apply with kubectl or commit for GitOps.',
    )
    .action((opts, c) => run(c, async (g) => (await import('../commands/upgrade.js')).plan(g, { ...opts, version: targetVersion(opts) })));
  examples(cmd, [
    ["to the channel's latest", 'pve-k3s plan'],
    ['to a pinned version', 'pve-k3s plan --k3s-version v1.33.5+k3s1'],
    ['save it, review it, run exactly it', 'pve-k3s plan -o json > plan.json && pve-k3s upgrade --plan plan.json'],
    ['as system-upgrade-controller Plans, for GitOps', 'pve-k3s plan --engine suc -o yaml > plans.yaml && kubectl apply -f plans.yaml'],
  ]);
  return cmd;
};
export default plan;
