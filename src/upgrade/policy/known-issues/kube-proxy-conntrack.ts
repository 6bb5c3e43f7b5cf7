/**
 * kube-proxy from Kubernetes 1.36 sets net.netfilter.nf_conntrack_max itself and fails in an
 * LXC container, where that sysctl belongs to the host: `nf_conntrack_max: permission denied`
 * (kubernetes/kubernetes#141943; 1.35 worked). kube-proxy only writes it when the value is
 * below what it wants (32768 per CPU, at least 131072), so a host already set that high is
 * safe. Fix: `kube-proxy-arg: conntrack-max-per-core=0` (kube-proxy then leaves it alone, as
 * MicroK8s does), or raise the sysctl on the host first.
 */
import type { IssueFinding, KnownIssue } from './types.js';

export const CONNTRACK_ARG = 'conntrack-max-per-core=0';
const PER_CORE = 32768;
const MIN = 131072;

/** What kube-proxy wants nf_conntrack_max to be on a node with this many CPUs. */
export function wantedConntrackMax(cores: number | undefined): number {
  return Math.max(PER_CORE * (cores ?? 1), MIN);
}

export const kubeProxyConntrack: KnownIssue = {
  id: 'kube-proxy-conntrack',
  title: 'kube-proxy 1.36 cannot set nf_conntrack_max in a container',
  affects: 'Kubernetes 1.36 and later (k3s v1.36.0+k3s1 on)',
  affectsVersion: (v) => v.major > 1 || v.minor >= 36,
  links: ['https://github.com/kubernetes/kubernetes/issues/141943'],
  detect(nodes) {
    const out: IssueFinding[] = [];
    for (const n of nodes) {
      if (!n.version || !this.affectsVersion(n.version) || !n.k3s) continue;
      if (n.k3s.disableKubeProxy) continue;
      if (n.k3s.kubeProxyArgs.some((a) => /^conntrack-max-per-core=0$/.test(a))) continue;
      const wanted = wantedConntrackMax(n.cores);
      if (n.hostConntrackMax !== undefined && n.hostConntrackMax >= wanted) continue;
      out.push({
        scope: n.name,
        status: 'fail',
        message: `k3s ${n.version.raw} (Kubernetes 1.${n.version.minor}) runs kube-proxy, which fails in LXC with "nf_conntrack_max: permission denied": ${n.host}'s nf_conntrack_max is ${n.hostConntrackMax ?? 'not set (nf_conntrack not loaded)'}, below the ${wanted} it wants, and no kube-proxy-arg ${CONNTRACK_ARG}`,
        fix: `add "kube-proxy-arg: [${CONNTRACK_ARG}]" to /etc/rancher/k3s/config.yaml in CT ${n.vmid} (applies at k3s's next start), or on ${n.host}: sysctl -w net.netfilter.nf_conntrack_max=${wanted} and persist it in /etc/sysctl.d/`,
        autoFix: { kind: 'kube-proxy-arg', node: n.name, host: n.host, vmid: n.vmid, role: n.role, arg: CONNTRACK_ARG, restart: false },
      });
    }
    return out;
  },
};
