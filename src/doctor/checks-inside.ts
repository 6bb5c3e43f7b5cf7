/** The checks of what the node script saw inside a running container: /dev/kmsg, mount propagation, k3s on PATH, the worker's role, disk. */
import type { NodeSpec } from '../inventory/types.js';
import { KMSG_ENTRY, type LxcConf } from '../proxmox/lxc-conf.js';
import { ok, type CheckResult, type NodeProbe } from './types.js';

export function insideChecks(n: NodeSpec, p: NodeProbe, conf: LxcConf | undefined): CheckResult[] {
  const out: CheckResult[] = [];
  const hasEntry = conf?.current.some((l) => l.key === 'lxc.mount.entry' && l.value.includes('kmsg')) ?? false;
  out.push(
    p.kmsg
      ? ok('kmsg', n.name, '/dev/kmsg exists')
      : {
          check: 'kmsg',
          scope: n.name,
          status: 'fail',
          message: '/dev/kmsg does not exist in the container',
          cause:
            'the kubelet reads /dev/kmsg and exits without it; LXC does not create it, and a symlink made once is lost at the next boot',
          fix: hasEntry
            ? `the bind mount is in /etc/pve/lxc/${n.vmid}.conf: pct reboot ${n.vmid} to apply it`
            : `add "lxc.mount.entry: ${KMSG_ENTRY}" to /etc/pve/lxc/${n.vmid}.conf, then pct reboot ${n.vmid}`,
          ...(hasEntry
            ? {}
            : {
                autoFix: {
                  kind: 'conf' as const,
                  host: n.host,
                  vmid: n.vmid,
                  node: n.name,
                  edit: { mountEntry: KMSG_ENTRY },
                  what: 'add the /dev/kmsg bind mount',
                },
              }),
        },
  );
  out.push(
    p.propagation.split(',').includes('shared')
      ? ok('rshared', n.name, '/ is shared')
      : {
          check: 'rshared',
          scope: n.name,
          status: 'fail',
          message: `/ is not shared (propagation: ${p.propagation || 'unknown'})`,
          cause:
            'kubelet and containerd need mount propagation; pods with volumes fail with "path / is mounted on / but it is not a shared mount"',
          fix: `pct exec ${n.vmid} -- mount --make-rshared /  (now), and make it permanent with a boot unit or rc.local running the same`,
          autoFix: { kind: 'rshared', host: n.host, vmid: n.vmid, node: n.name },
        },
  );
  const pathProblems: string[] = [];
  if (!p.k3s) pathProblems.push('/usr/local/bin/k3s');
  if (n.role === 'server' && !p.kubectl) pathProblems.push('/usr/local/bin/kubectl');
  out.push(
    pathProblems.length === 0
      ? ok('k3s-path', n.name, 'k3s (and kubectl on servers) at /usr/local/bin')
      : {
          check: 'k3s-path',
          scope: n.name,
          status: 'fail',
          message: `not found: ${pathProblems.join(', ')}`,
          cause:
            'pct exec runs with PATH=/sbin:/bin:/usr/sbin:/usr/bin, so k3s and kubectl are reached by full path; they are missing there (k3s not installed, installed elsewhere, or the kubectl symlink removed)',
          fix: pathProblems.includes('/usr/local/bin/k3s')
            ? 'install k3s on the node (pve-k3s upgrade reinstalls it with its own options)'
            : `pct exec ${n.vmid} -- ln -s k3s /usr/local/bin/kubectl`,
        },
  );
  if (n.role === 'agent') {
    const rogue = p.k3sUnit || p.k3sActive === 'active' || p.k3sActive === 'activating';
    out.push(
      !rogue
        ? ok('worker-role', n.name, 'the worker runs k3s-agent only')
        : {
            check: 'worker-role',
            scope: n.name,
            status: 'fail',
            message: `the worker has a k3s server service (k3s.service ${p.k3sActive || 'present'}) beside k3s-agent`,
            cause:
              "the bare install script was run on it (curl -sfL https://get.k3s.io | sh - without K3S_URL): it installed a SERVER, which took the agent's ports and started a separate one-node cluster",
            fix: `pct exec ${n.vmid} -- sh -c 'systemctl disable --now k3s && rm -f /etc/systemd/system/k3s.service /etc/systemd/system/k3s.service.env && systemctl daemon-reload && rm -rf /var/lib/rancher/k3s/server && systemctl restart k3s-agent'; upgrade workers with pve-k3s, which re-supplies their role`,
          },
    );
  } else {
    out.push(ok('worker-role', n.name, 'server'));
  }
  const pct = p.diskPct;
  out.push(
    pct === undefined
      ? { check: 'disk', scope: n.name, status: 'skip', message: 'df gave no answer' }
      : pct < 80
        ? ok('disk', n.name, `root file system ${pct}% used`)
        : {
            check: 'disk',
            scope: n.name,
            status: pct >= 90 ? 'fail' : 'warn',
            message: `root file system ${pct}% used`,
            cause:
              'the kubelet evicts pods and garbage-collects images when the disk fills (defaults: under 10-15% free); etcd and SQLite stop writing when it is full',
            fix: `free space (pct exec ${n.vmid} -- /usr/local/bin/k3s crictl rmi --prune) or grow the disk: pct resize ${n.vmid} rootfs +10G`,
          },
  );
  return out;
}
