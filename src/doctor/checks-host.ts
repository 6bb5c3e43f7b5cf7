/** The checks of a Proxmox host: the kernel modules its containers need. */
import { ok, type CheckResult, type HostProbe } from './types.js';

export function modulesCheck(hp: HostProbe): CheckResult {
  const scope = `host ${hp.host}`;
  if (!hp.modules) return { check: 'host-modules', scope, status: 'skip', message: hp.error ?? '/proc/modules could not be read' };
  const missing = ['overlay', 'br_netfilter'].filter((m) => !hp.modules?.has(m));
  return missing.length === 0
    ? ok('host-modules', scope, 'overlay and br_netfilter loaded')
    : {
        check: 'host-modules',
        scope,
        status: 'fail',
        message: `kernel modules not loaded: ${missing.join(', ')}`,
        cause:
          'containers share the host kernel and cannot load modules: containerd needs overlay, kube-proxy and flannel need br_netfilter',
        fix: `on ${hp.host}: modprobe -a ${missing.join(' ')}, and list them in /etc/modules-load.d/k3s.conf for the next boot`,
        autoFix: { kind: 'modules', host: hp.host, modules: missing },
      };
}
