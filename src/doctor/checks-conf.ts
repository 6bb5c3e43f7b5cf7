/** The checks of a container's /etc/pve/lxc/<vmid>.conf: the lxc.* lines k3s needs, cgroup v1 keys, [snapshot] sections, privileged, nesting, swap. */
import { get, missingLxc, REQUIRED_LXC, type ConfEdit } from '../proxmox/lxc-conf.js';
import { ok, type CheckResult, type Fix, type NodeView } from './types.js';

export function confChecks(v: NodeView): CheckResult[] {
  const { node: n, conf, host: hp } = v;
  const names = ['lxc-config', 'cgroup-v1', 'snapshot-section', 'privileged', 'nesting', 'swap'];
  if (!conf)
    return names.map((c) => ({
      check: c,
      scope: n.name,
      status: 'skip' as const,
      message: `/etc/pve/lxc/${n.vmid}.conf could not be read on ${n.host}${hp?.error ? `: ${hp.error}` : ''}`,
    }));
  const file = `/etc/pve/lxc/${n.vmid}.conf`;
  const out: CheckResult[] = [];
  const missing = missingLxc(conf.current);
  const below = missing.filter((m) => conf.sections.some((s) => s.lines.some((l) => l.key === m.key)));
  const v1Keys = new Set(
    conf.current.filter((l) => l.key.startsWith('lxc.cgroup.')).map((l) => l.key.replace(/^lxc\.cgroup\./, 'lxc.cgroup2.')),
  );
  const absent = missing.filter((m) => !below.includes(m) && !v1Keys.has(m.key));
  const confFix = (edit: ConfEdit, what: string): Fix => ({ kind: 'conf', host: n.host, vmid: n.vmid, node: n.name, edit, what });
  out.push(
    absent.length === 0
      ? ok('lxc-config', n.name, 'the lxc.* lines k3s needs are set')
      : {
          check: 'lxc-config',
          scope: n.name,
          status: 'fail',
          message: `missing in ${file}: ${absent.map((m) => `${m.key}: ${m.value}`.trimEnd()).join(', ')}`,
          cause:
            'k3s needs AppArmor unconfined, all devices, no dropped capabilities and rw /proc and /sys; lxc.* lines cannot be set with pct set or the API',
          fix: `add the lines to ${file} above the first [snapshot] section, then restart the container (pct reboot ${n.vmid})`,
          autoFix: confFix({ set: absent.map((m) => ({ key: m.key, value: m.value })) }, `add ${absent.map((m) => m.key).join(', ')}`),
        },
  );
  const v1 = conf.current.filter((l) => l.key.startsWith('lxc.cgroup.'));
  out.push(
    v1.length === 0
      ? ok('cgroup-v1', n.name, 'no cgroup v1 keys')
      : {
          check: 'cgroup-v1',
          scope: n.name,
          status: 'fail',
          message: `cgroup v1 keys in ${file}: ${v1.map((l) => l.key).join(', ')}`,
          cause:
            'Proxmox VE 7+ runs the unified cgroup v2 hierarchy: lxc.cgroup.* lines are ignored, so the devices k3s needs are not allowed',
          fix: `rename them to lxc.cgroup2.* in ${file}, then pct reboot ${n.vmid}`,
          autoFix: confFix(
            { rename: [...new Set(v1.map((l) => l.key))].map((k) => [k, k.replace(/^lxc\.cgroup\./, 'lxc.cgroup2.')] as [string, string]) },
            'rename lxc.cgroup.* to lxc.cgroup2.*',
          ),
        },
  );
  out.push(
    below.length === 0
      ? ok('snapshot-section', n.name, 'no needed line is stranded below a [snapshot] section')
      : {
          check: 'snapshot-section',
          scope: n.name,
          status: 'fail',
          message: `${below.map((m) => m.key).join(', ')} only below a [snapshot] section of ${file}`,
          cause:
            'lines after the first [name] section belong to that snapshot (they were appended at the end of the file after a snapshot was taken), so the running config lacks them',
          fix: `move them above the first [snapshot] line in ${file}, then pct reboot ${n.vmid}`,
          autoFix: confFix(
            { set: below.map((m) => ({ key: m.key, value: REQUIRED_LXC.find((r) => r.key === m.key)?.value ?? m.value })) },
            `add ${below.map((m) => m.key).join(', ')} to the current section`,
          ),
        },
  );
  const unpriv = get(conf.current, 'unprivileged');
  out.push(
    unpriv !== '1'
      ? ok('privileged', n.name, 'privileged container')
      : {
          check: 'privileged',
          scope: n.name,
          status: 'fail',
          message: 'the container is unprivileged (unprivileged: 1)',
          cause: 'k3s (kubelet, containerd, flannel) needs a privileged container in Proxmox LXC',
          fix: 'recreate it privileged: vzdump it, then pct restore with --unprivileged 0 (root@pam only); this cannot be changed in place',
        },
  );
  const features = get(conf.current, 'features') ?? '';
  const nesting = /(^|,)nesting=1(,|$)/.test(features);
  out.push(
    nesting
      ? ok('nesting', n.name, 'features: nesting=1')
      : {
          check: 'nesting',
          scope: n.name,
          status: 'fail',
          message: `nesting is off (features: ${features || 'none'})`,
          cause: 'containerd needs nesting to create its own namespaces and mounts',
          fix: `pct set ${n.vmid} --features nesting=1${features ? ` (keep ${features})` : ''} as root@pam, then pct reboot ${n.vmid}`,
          autoFix: confFix(
            { set: [{ key: 'features', value: features ? `${features},nesting=1` : 'nesting=1' }] },
            'set features nesting=1',
          ),
        },
  );
  const swap = get(conf.current, 'swap');
  out.push(
    swap === '0'
      ? ok('swap', n.name, 'swap: 0')
      : {
          check: 'swap',
          scope: n.name,
          status: 'fail',
          message: `swap is ${swap ?? 'not set (Proxmox default 512 MB)'}`,
          cause: 'the kubelet refuses to run with swap unless configured to; containers get swap from their config',
          fix: `pct set ${n.vmid} --swap 0`,
          autoFix: confFix({ set: [{ key: 'swap', value: '0' }] }, 'set swap: 0'),
        },
  );
  return out;
}
