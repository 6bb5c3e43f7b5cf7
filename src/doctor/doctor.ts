/**
 * `doctor`: the known ways k3s breaks in Proxmox LXC, each checked and, on failure, explained
 * (cause, fix). Facts come from gatherFacts (one round trip per host) plus ONE more batched
 * round trip per host: storage.cfg, /proc/modules, each container's raw conf, and one
 * `pct exec` per running node for what only the inside shows. Checks are pure functions of
 * those facts; `--fix` applies only the safe fixes.
 */
import type { ClusterFacts, NodeFacts } from '../domain/facts.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { buildBatch, parseBatch } from '../proxmox/batch.js';
import { compareVersions } from '../domain/version.js';
import { KUBECTL } from '../kube/kube.js';
import { CORDON_ANNOTATION, type UpgradeState } from '../status/upgrade-state.js';
import { editConf, get, KMSG_ENTRY, missingLxc, parseConf, REQUIRED_LXC, type ConfEdit, type LxcConf } from '../proxmox/lxc-conf.js';
import { invariant } from '../domain/errors.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export type Fix =
  | { kind: 'conf'; host: string; vmid: number; node: string; edit: ConfEdit; what: string }
  | { kind: 'modules'; host: string; modules: string[] }
  | { kind: 'rshared'; host: string; vmid: number; node: string }
  | { kind: 'uncordon'; node: string };

export interface CheckResult {
  check: string;
  /** A node, a host (`host pve1`) or `cluster`. */
  scope: string;
  status: CheckStatus;
  message: string;
  cause?: string;
  fix?: string;
  /** Present when `--fix` can apply it safely. */
  autoFix?: Fix;
}

export const CHECKS = [
  'container',
  'lxc-config',
  'cgroup-v1',
  'snapshot-section',
  'privileged',
  'nesting',
  'swap',
  'kmsg',
  'rshared',
  'host-modules',
  'zfs-overlay',
  'k3s-path',
  'worker-role',
  'version-skew',
  'cordoned',
  'upgrade-journal',
  'disk',
  'clock',
] as const;

export interface NodeProbe {
  kmsg: boolean;
  propagation: string;
  k3s: boolean;
  kubectl: boolean;
  k3sUnit: boolean;
  k3sActive: string;
  snapshotter: string;
  diskPct: number | undefined;
  clock: number | undefined;
}

export interface HostProbe {
  host: string;
  error: string | undefined;
  storage: Map<string, string>;
  modules: Set<string> | undefined;
  confs: Map<number, LxcConf>;
  nodes: Map<string, NodeProbe>;
  /** Local clock around the round trip (epoch s), for clock skew. */
  t0: number;
  t1: number;
}

export const NODE_SCRIPT = [
  'test -e /dev/kmsg && echo kmsg=yes || echo kmsg=no',
  'echo "propagation=$(findmnt -no PROPAGATION / 2>/dev/null)"',
  'test -x /usr/local/bin/k3s && echo k3s=yes || echo k3s=no',
  'test -x /usr/local/bin/kubectl && echo kubectl=yes || echo kubectl=no',
  'test -e /etc/systemd/system/k3s.service && echo k3s_unit=yes || echo k3s_unit=no',
  'echo "k3s_active=$(systemctl is-active k3s 2>/dev/null)"',
  'echo @@snapshotter',
  'cat /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service /etc/rancher/k3s/config.yaml 2>/dev/null | grep -E "snapshotter|native|fuse-overlayfs|zfs"',
  'echo @@df',
  'df -Pk /',
  'echo @@date',
  'date +%s',
].join('\n');

export function parseNodeProbe(text: string): NodeProbe {
  const sec = (name: string) => {
    const i = text.indexOf(`@@${name}\n`);
    if (i < 0) return '';
    const rest = text.slice(i + name.length + 3);
    const j = rest.indexOf('@@');
    return j < 0 ? rest : rest.slice(0, j);
  };
  const kv = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const df = /\s(\d+)%\s+\/\s*$/m.exec(sec('df'));
  const clock = Number(sec('date').trim().split('\n')[0]);
  return {
    kmsg: kv('kmsg') === 'yes',
    propagation: kv('propagation'),
    k3s: kv('k3s') === 'yes',
    kubectl: kv('kubectl') === 'yes',
    k3sUnit: kv('k3s_unit') === 'yes',
    k3sActive: kv('k3s_active'),
    snapshotter: sec('snapshotter').trim(),
    diskPct: df ? Number(df[1]) : undefined,
    clock: Number.isFinite(clock) && clock > 0 ? clock : undefined,
  };
}

/** storage.cfg: `<type>: <id>` headers. */
export function parseStorageCfg(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+):\s*(\S+)\s*$/gm)) out.set(m[2] ?? '', m[1] ?? '');
  return out;
}

export async function probeForDoctor(
  inv: Inventory,
  shells: ReadonlyMap<string, Shell>,
  facts: ClusterFacts,
  signal?: AbortSignal,
): Promise<HostProbe[]> {
  const hosts = [...new Set(inv.nodes.map((n) => n.host))];
  return Promise.all(
    hosts.map(async (host) => {
      const nodes = inv.nodes.filter((n) => n.host === host);
      const running = nodes.filter((n) => facts.nodes.find((f) => f.name === n.name)?.container === 'running');
      const cmds = [
        { argv: ['cat', '/etc/pve/storage.cfg'] },
        { argv: ['cat', '/proc/modules'] },
        ...nodes.map((n) => ({ argv: ['cat', `/etc/pve/lxc/${n.vmid}.conf`] })),
        ...running.map((n) => ({ argv: ['pct', 'exec', String(n.vmid), '--', 'sh', '-c', NODE_SCRIPT] })),
      ];
      const batch = buildBatch(cmds, { parallel: 8 });
      const p: HostProbe = {
        host,
        error: undefined,
        storage: new Map(),
        modules: undefined,
        confs: new Map(),
        nodes: new Map(),
        t0: Date.now() / 1000,
        t1: 0,
      };
      try {
        const shell = shells.get(host);
        invariant(shell, `no shell for host ${host}`);
        const r = await shell.run(['sh', '-s'], { stdin: batch.script, timeoutMs: 120_000, ...(signal ? { signal } : {}) });
        p.t1 = Date.now() / 1000;
        const res = parseBatch(r, batch);
        const [storage, modules, ...rest] = res;
        if (storage?.code === 0) p.storage = parseStorageCfg(storage.stdout);
        if (modules?.code === 0)
          p.modules = new Set(
            modules.stdout
              .split('\n')
              .map((l) => l.split(' ')[0] ?? '')
              .filter(Boolean),
          );
        nodes.forEach((n, i) => {
          const c = rest[i];
          if (c?.code === 0) p.confs.set(n.vmid, parseConf(c.stdout));
        });
        running.forEach((n, i) => {
          const c = rest[nodes.length + i];
          if (c && c.code !== -1) p.nodes.set(n.name, parseNodeProbe(c.stdout));
        });
      } catch (e) {
        if (signal?.aborted) throw e;
        p.error = (e as Error).message;
        p.t1 = Date.now() / 1000;
      }
      return p;
    }),
  );
}

export interface DoctorInput {
  inv: Inventory;
  facts: ClusterFacts;
  hosts: HostProbe[];
  upgrade: UpgradeState;
  /** Only this node's checks (and its host's). */
  only?: string;
}

const ok = (check: string, scope: string, message: string): CheckResult => ({ check, scope, status: 'ok', message });

/** Every check for every node/host, in CHECKS order. Pure. */
export function runChecks(input: DoctorInput): CheckResult[] {
  const { inv, facts, hosts, upgrade } = input;
  const out: CheckResult[] = [];
  const nodes = inv.nodes.filter((n) => input.only === undefined || n.name === input.only);
  const probeOf = (h: string) => hosts.find((x) => x.host === h);
  const factOf = (n: NodeSpec) => facts.nodes.find((f) => f.name === n.name);
  for (const n of nodes) {
    const f = factOf(n);
    const hp = probeOf(n.host);
    const conf = hp?.confs.get(n.vmid);
    const np = hp?.nodes.get(n.name);
    const running = f?.container === 'running';
    out.push(
      running
        ? ok('container', n.name, `container ${n.vmid} on ${n.host} is running`)
        : {
            check: 'container',
            scope: n.name,
            status: 'fail',
            message: `container ${n.vmid} on ${n.host} is ${f?.container ?? 'unknown'}`,
            cause: hp?.error
              ? `host ${n.host} could not be probed: ${hp.error}`
              : 'the container is not running (stopped, or missing on that host)',
            fix: `pct start ${n.vmid} on ${n.host} (or correct the node's vmid/host in the inventory)`,
          },
    );
    out.push(...confChecks(n, conf, hp));
    if (!running || !np) {
      for (const c of ['kmsg', 'rshared', 'k3s-path', 'worker-role', 'disk'] as const)
        out.push({ check: c, scope: n.name, status: 'skip', message: 'container not running or not probed' });
    } else {
      out.push(...insideChecks(n, np, conf));
    }
    out.push(zfsCheck(n, conf, hp, np));
    out.push(cordonCheck(n, f, upgrade));
  }
  for (const hp of hosts) {
    if (input.only !== undefined && !nodes.some((n) => n.host === hp.host)) continue;
    out.push(modulesCheck(hp));
  }
  if (input.only === undefined) {
    out.push(skewCheck(facts));
    out.push(journalCheck(upgrade));
    out.push(clockCheck(inv, hosts));
  }
  const order = new Map<string, number>(CHECKS.map((c, i) => [c, i]));
  return out.sort((a, b) => (order.get(a.check) ?? 99) - (order.get(b.check) ?? 99));
}

function confChecks(n: NodeSpec, conf: LxcConf | undefined, hp: HostProbe | undefined): CheckResult[] {
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

function insideChecks(n: NodeSpec, p: NodeProbe, conf: LxcConf | undefined): CheckResult[] {
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

function zfsCheck(n: NodeSpec, conf: LxcConf | undefined, hp: HostProbe | undefined, np: NodeProbe | undefined): CheckResult {
  const rootfs = conf ? (get(conf.current, 'rootfs') ?? '') : '';
  const storage = rootfs.split(':')[0] ?? '';
  const type = hp?.storage.get(storage);
  if (!conf || !type)
    return {
      check: 'zfs-overlay',
      scope: n.name,
      status: conf ? 'ok' : 'skip',
      message: conf ? `root on ${storage || 'unknown storage'}` : 'config not read',
    };
  if (type !== 'zfspool') return ok('zfs-overlay', n.name, `root on ${storage} (${type})`);
  if (np && /native|fuse-overlayfs|zfs/.test(np.snapshotter))
    return ok('zfs-overlay', n.name, `root on ZFS (${storage}) with a snapshotter that works there`);
  return {
    check: 'zfs-overlay',
    scope: n.name,
    status: 'warn',
    message: `root on ZFS (${storage}) with containerd's default overlayfs snapshotter`,
    cause: 'overlayfs on a ZFS dataset fails before OpenZFS 2.2 (pods stuck in ContainerCreating, "failed to mount overlay")',
    fix: 'use --snapshotter=native (or fuse-overlayfs) in the k3s options, or put /var/lib/rancher on an ext4 volume (a zvol or a mount point), or run OpenZFS 2.2+',
  };
}

function cordonCheck(n: NodeSpec, f: NodeFacts | undefined, upgrade: UpgradeState): CheckResult {
  const k = f?.kube;
  if (!k || k.schedulable) return ok('cordoned', n.name, k ? 'schedulable' : 'not registered (or kubectl failed)');
  if (k.cordonedByUs !== undefined) {
    return {
      check: 'cordoned',
      scope: n.name,
      status: 'warn',
      message: `cordoned by pve-k3s (${CORDON_ANNOTATION}=${k.cordonedByUs})${upgrade.inProgress ? ' during the upgrade in progress' : ''}`,
      cause: 'an upgrade stopped before it uncordoned this node',
      fix: upgrade.inProgress
        ? 'let the upgrade finish, or run pve-k3s upgrade to resume it'
        : `pve-k3s upgrade (resumes), or kubectl uncordon ${n.name}`,
      ...(upgrade.inProgress ? {} : { autoFix: { kind: 'uncordon' as const, node: n.name } }),
    };
  }
  return {
    check: 'cordoned',
    scope: n.name,
    status: 'warn',
    message: 'cordoned (not by pve-k3s)',
    cause: 'someone ran kubectl cordon or drain on it',
    fix: `kubectl uncordon ${n.name} when it is meant to take pods again`,
  };
}

function modulesCheck(hp: HostProbe): CheckResult {
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

function skewCheck(facts: ClusterFacts): CheckResult {
  const installed = [...new Set(facts.nodes.map((n) => n.installed?.raw).filter((v): v is string => typeof v === 'string'))];
  const servers = facts.nodes.filter((n) => n.role === 'server' && n.kube?.kubeletVersion).map((n) => n.kube!.kubeletVersion!);
  const oldestServer = servers.sort(compareVersions)[0];
  const tooNew = oldestServer
    ? facts.nodes.filter(
        (n) =>
          n.role === 'agent' &&
          n.kube?.kubeletVersion &&
          compareVersions(n.kube.kubeletVersion, oldestServer) > 0 &&
          n.kube.kubeletVersion.minor > oldestServer.minor,
      )
    : [];
  if (tooNew.length > 0) {
    return {
      check: 'version-skew',
      scope: 'cluster',
      status: 'fail',
      message: `kubelet newer than the apiserver (${oldestServer?.raw}) on ${tooNew.map((n) => n.name).join(', ')}`,
      cause:
        'workers were upgraded a minor version before the servers (the Kubernetes skew policy forbids a kubelet newer than its apiserver)',
      fix: 'upgrade the servers: pve-k3s upgrade --order servers-first',
    };
  }
  if (installed.length > 1) {
    return {
      check: 'version-skew',
      scope: 'cluster',
      status: 'warn',
      message: `nodes run different k3s versions: ${installed.join(', ')}`,
      cause: 'an upgrade did not finish, or nodes were installed at different times',
      fix: 'pve-k3s plan, then pve-k3s upgrade to bring every node to one version',
    };
  }
  return ok('version-skew', 'cluster', installed.length ? `every node runs ${installed[0]}` : 'no versions read');
}

function journalCheck(u: UpgradeState): CheckResult {
  if (u.inProgress)
    return {
      check: 'upgrade-journal',
      scope: 'cluster',
      status: 'warn',
      message: `upgrade ${u.run} to ${u.target ?? '?'} started ${u.startedAt ?? ''} has no recorded end`,
      cause: 'an upgrade is running now, or its process was killed mid-step',
      fix: 'if no upgrade is running, pve-k3s upgrade resumes it from the journal',
    };
  if (u.interrupted)
    return {
      check: 'upgrade-journal',
      scope: 'cluster',
      status: 'warn',
      message: `the last upgrade (${u.run} to ${u.target ?? '?'}) ${u.status}`,
      cause: 'a step failed or the run was stopped (Ctrl-C)',
      fix: 'fix what its output named, then pve-k3s upgrade to resume',
    };
  return ok('upgrade-journal', 'cluster', u.run ? `last upgrade ${u.run} ${u.status ?? ''}`.trim() : 'no upgrade recorded');
}

/** Largest clock difference between two nodes beyond what the round trips can explain. */
function clockCheck(inv: Inventory, hosts: HostProbe[]): CheckResult {
  const offsets: Array<{ node: string; lo: number; hi: number }> = [];
  for (const hp of hosts) {
    for (const [node, p] of hp.nodes)
      if (p.clock !== undefined && inv.nodes.some((n) => n.name === node))
        offsets.push({ node, lo: p.clock - hp.t1 - 1, hi: p.clock - hp.t0 + 1 });
  }
  if (offsets.length < 2) return ok('clock', 'cluster', 'fewer than two clocks read');
  const ahead = offsets.reduce((a, b) => (b.lo > a.lo ? b : a));
  const behind = offsets.reduce((a, b) => (b.hi < a.hi ? b : a));
  const skew = Math.round(ahead.lo - behind.hi);
  return skew <= 5
    ? ok('clock', 'cluster', 'node clocks agree within the round trip')
    : {
        check: 'clock',
        scope: 'cluster',
        status: 'warn',
        message: `${ahead.node}'s clock is at least ${skew} s ahead of ${behind.node}'s`,
        cause:
          "containers use their host's clock: a Proxmox host without working NTP drifts; TLS certificates, tokens and etcd leases need agreeing clocks",
        fix: 'enable time sync on every Proxmox host (chrony is the Proxmox default): systemctl enable --now chrony; chronyc tracking',
      };
}

// ---- fixes ----

export interface FixOutcome {
  fix: Fix;
  ok: boolean;
  message: string;
}

export function describeFix(f: Fix): string {
  switch (f.kind) {
    case 'conf':
      return `${f.node}: ${f.what} in /etc/pve/lxc/${f.vmid}.conf on ${f.host} (applies at the next container restart)`;
    case 'modules':
      return `host ${f.host}: modprobe -a ${f.modules.join(' ')} and list them in /etc/modules-load.d/k3s.conf`;
    case 'rshared':
      return `${f.node}: mount --make-rshared / (now; not persistent)`;
    case 'uncordon':
      return `${f.node}: kubectl uncordon and remove ${CORDON_ANNOTATION}`;
  }
}

/** Applies fixes; conf edits to one container are merged into one rewrite, checked against a re-read. */
export async function applyFixes(
  inv: Inventory,
  shells: ReadonlyMap<string, Shell>,
  fixes: Fix[],
  signal?: AbortSignal,
): Promise<FixOutcome[]> {
  const out: FixOutcome[] = [];
  const shell = (h: string) => {
    const s = shells.get(h);
    invariant(s, `no shell for host ${h}`);
    return s;
  };
  const run = (h: string, argv: string[], stdin?: string) =>
    shell(h).run(argv, { timeoutMs: 120_000, ...(stdin !== undefined ? { stdin } : {}), ...(signal ? { signal } : {}) });
  const byCt = new Map<string, Array<Extract<Fix, { kind: 'conf' }>>>();
  for (const f of fixes)
    if (f.kind === 'conf') {
      const k = `${f.host}/${f.vmid}`;
      byCt.set(k, [...(byCt.get(k) ?? []), f]);
    }
  for (const group of byCt.values()) {
    const first = group[0]!;
    const file = `/etc/pve/lxc/${first.vmid}.conf`;
    const cur = await run(first.host, ['cat', file]);
    if (cur.code !== 0) {
      for (const f of group) out.push({ fix: f, ok: false, message: `cannot read ${file}` });
      continue;
    }
    let text = cur.stdout;
    for (const f of group) text = editConf(parseConf(text), f.edit);
    const w = await run(first.host, ['sh', '-c', 'cat > "$1.pve-k3s.tmp" && mv "$1.pve-k3s.tmp" "$1"', 'sh', file], text);
    for (const f of group)
      out.push({
        fix: f,
        ok: w.code === 0,
        message:
          w.code === 0
            ? 'written; restart the container to apply (pct reboot ' + f.vmid + ')'
            : `write failed: ${(w.stderr || w.stdout).trim()}`,
      });
  }
  for (const f of fixes) {
    if (f.kind === 'modules') {
      const a = await run(f.host, ['modprobe', '-a', ...f.modules]);
      const b =
        a.code === 0
          ? await run(f.host, [
              'sh',
              '-c',
              'mkdir -p /etc/modules-load.d && printf "%s\\n" "$@" > /etc/modules-load.d/k3s.conf',
              'sh',
              ...f.modules,
            ])
          : a;
      out.push({
        fix: f,
        ok: a.code === 0 && b.code === 0,
        message:
          a.code === 0
            ? b.code === 0
              ? 'loaded'
              : 'loaded, but /etc/modules-load.d/k3s.conf could not be written'
            : (a.stderr || a.stdout).trim(),
      });
    } else if (f.kind === 'rshared') {
      const r = await run(f.host, ['pct', 'exec', String(f.vmid), '--', 'mount', '--make-rshared', '/']);
      out.push({
        fix: f,
        ok: r.code === 0,
        message: r.code === 0 ? 'done (lost at the next boot: make it permanent)' : (r.stderr || r.stdout).trim(),
      });
    } else if (f.kind === 'uncordon') {
      const ctl = inv.nodes.find((n) => n.name === inv.controller);
      if (!ctl) {
        out.push({ fix: f, ok: false, message: 'no controller in the inventory' });
        continue;
      }
      const k = (args: string[]) => run(ctl.host, ['pct', 'exec', String(ctl.vmid), '--', KUBECTL, ...args]);
      const a = await k(['uncordon', f.node]);
      const b = a.code === 0 ? await k(['annotate', 'node', f.node, `${CORDON_ANNOTATION}-`, '--overwrite']) : a;
      out.push({ fix: f, ok: a.code === 0 && b.code === 0, message: a.code === 0 ? 'uncordoned' : (a.stderr || a.stdout).trim() });
    }
  }
  return out;
}
