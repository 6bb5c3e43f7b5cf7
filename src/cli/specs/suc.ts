/** `pve-k3s suc`: system-upgrade-controller, for `upgrade --engine suc` (install; pause, resume, abandon a SUC run). */
import { Command, examples, textOnly, type Spec } from '../program.js';

const suc: Spec = () =>
  new Command('suc')
    .summary('system-upgrade-controller: install it; pause, resume or abandon an `upgrade --engine suc`')
    .description(
      "Rancher's system-upgrade-controller (SUC) does the node work of `pve-k3s upgrade --engine suc`. " +
        'These commands install a pinned SUC release and pause, resume or abandon a SUC run.',
    );
export default suc;

export const sucInstall: Spec = (run) => {
  const cmd = new Command('install')
    .summary('apply a pinned system-upgrade-controller release (its CRD and controller manifests) to the cluster')
    .description(
      'Apply a system-upgrade-controller release to the cluster: its crd.yaml and system-upgrade-controller.yaml, ' +
        'downloaded by this machine from the release on GitHub (the pinned version, or --release), from --url, or ' +
        'read from --file (air gap: download the two files elsewhere). Applying again is harmless.',
    )
    .option('--release <version>', 'the SUC release to apply (default: the pinned one)')
    .option('--url <url...>', 'download the manifests from these URLs instead')
    .option('--file <file...>', 'apply these manifest files (air gap)')
    .action((opts, c) => run(c, async (g) => (await import('../commands/suc.js')).sucInstall(g, opts)));
  examples(cmd, [
    ['the pinned release, from GitHub', 'pve-k3s suc install'],
    ['air gap', 'pve-k3s suc install --file crd.yaml --file system-upgrade-controller.yaml'],
  ]);
  textOnly(cmd, "kubectl apply's lines");
  return cmd;
};

export const sucPause: Spec = (run) => {
  const cmd = new Command('pause')
    .summary('pause an `upgrade --engine suc`: no new node starts; nodes whose Job runs finish')
    .description(
      'Pause the SUC run of the cluster: its Plans are marked paused (a running `upgrade --engine suc` stops before ' +
        'its next node) and the opt-in label pve-k3s.io/upgrade is removed from every node whose SUC Job has not ' +
        'started. Nodes whose Job runs finish. Continue with `pve-k3s suc resume`.',
    )
    .action((_opts, c) => run(c, async (g) => (await import('../commands/suc.js')).sucPause(g)));
  examples(cmd, [['stop handing nodes to SUC', 'pve-k3s suc pause']]);
  textOnly(cmd, 'what it paused');
  return cmd;
};

export const sucResume: Spec = (run) => {
  const cmd = new Command('resume')
    .summary('continue a paused or interrupted `upgrade --engine suc`')
    .description(
      'Continue the SUC run of the cluster: the paused mark goes from its Plans and the run goes on as `pve-k3s resume` ' +
        'does (the cluster read again first), with system-upgrade-controller doing the node work.',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force-takeover', "break the cluster lease of the run's holder now instead of waiting for it to expire")
    .action((opts, c) => run(c, async (g) => (await import('../commands/suc.js')).sucResume(g, opts)));
  examples(cmd, [['go on after suc pause', 'pve-k3s suc resume --yes']]);
  return cmd;
};

export const sucAbandon: Spec = (run) => {
  const cmd = new Command('abandon')
    .summary('abandon an `upgrade --engine suc`: delete its Plans, uncordon what it cordoned, close the run')
    .description(
      'Abandon the SUC run of the cluster: its Plans are deleted (SUC deletes their Jobs), the opt-in and disabled ' +
        'labels removed, the nodes the run cordoned uncordoned, and the run closed as `pve-k3s abandon` does.',
    )
    .option('--force-takeover', "break the cluster lease of the run's holder now instead of waiting for it to expire")
    .action((opts, c) => run(c, async (g) => (await import('../commands/resume.js')).abandon(g, opts)));
  examples(cmd, [['give up the SUC run', 'pve-k3s suc abandon']]);
  textOnly(cmd, 'what it deleted and uncordoned');
  return cmd;
};
