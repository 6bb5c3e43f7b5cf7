/** `pve-k3s kubeconfig`: the admin kubeconfig, merged or written. */
import { Command, examples, textOnly, type Spec } from '../program.js';

const kubeconfig: Spec = (run) => {
  const cmd = new Command('kubeconfig')
    .summary("fetch the admin kubeconfig from a server, point it at the server's address, merge it into ~/.kube/config")
    .description(
      "Fetch the admin kubeconfig from a server, point it at the server's address, and merge it into ~/.kube/config " +
        'as a context named after the cluster (or write it to a file of its own with --out).',
    )
    .option('--out <file>', 'write it to FILE instead of merging (mode 0600)')
    .option('--context <name>', 'context (and cluster and user) name (default: the cluster name)')
    .action((opts, c) => run(c, async (g) => (await import('../commands/kubeconfig.js')).kubeconfig(g, opts)));
  examples(cmd, [
    ['merge into ~/.kube/config and use it', 'pve-k3s kubeconfig && kubectl config use-context k3s'],
    ['a file of its own', 'pve-k3s kubeconfig --out ./k3s.yaml && KUBECONFIG=./k3s.yaml kubectl get nodes'],
  ]);
  textOnly(cmd, 'where it wrote the kubeconfig');
  return cmd;
};
export default kubeconfig;
