/**
 * What `pve-k3s install` needs from a lab host beyond upgrades: `pct create` (from a template
 * in the host's `/var/lib/vz/template/cache`), `pct set`, the k3s uninstall scripts,
 * `kubectl delete node`, and what a booted container and a started server leave behind
 * (`/dev/kmsg` from its bind mount, the token files and k3s.yaml).
 */
import { BIN, envPath, unitPath } from './k3s-files.js';
import { findContainer, stopService } from './k3s-model.js';
import { mkdirp, newFs, readFile, remove, writeFile } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ContainerState, KubeCluster, LabState, ServiceName } from './types.js';
import { UsageError } from '../domain/errors.js';

export const TEMPLATE_DIR = '/var/lib/vz/template/cache';
export const LAB_TEMPLATE = 'debian-12-standard_12.7-1_amd64.tar.zst';
export const TOKEN_FILE = '/var/lib/rancher/k3s/server/token';
export const KUBECONFIG_FILE = '/etc/rancher/k3s/k3s.yaml';

/** Keys `pct create`/`pct set` accept here (a subset of Proxmox's schema; others are refused). */
const KEYS = [
  'hostname',
  'cores',
  'memory',
  'swap',
  'rootfs',
  'net0',
  'unprivileged',
  'features',
  'onboot',
  'tags',
  'ostype',
  'arch',
  'nameserver',
  'searchdomain',
  'description',
  'start',
  'password',
  'ssh-public-keys',
  'storage',
];

function parseOptions(args: string[]): { opts: Map<string, string>; del: string[]; error?: string } {
  const opts = new Map<string, string>();
  const del: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('--')) return { opts, del, error: `400 too many arguments\n` };
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) return { opts, del, error: `400 Parameter verification failed.\n${key}: missing value\n` };
    if (key === 'delete') {
      del.push(...value.split(','));
      continue;
    }
    if (!KEYS.includes(key))
      return {
        opts,
        del,
        error: `400 Parameter verification failed.\n${key}: property is not defined in schema and the schema does not allow additional properties\n`,
      };
    opts.set(key, value);
  }
  return { opts, del };
}

/** `pct create <vmid> <template> [--key value]...`: a stopped container. */
export function pctCreate(ctx: ExecContext, host: string, args: string[]): ExecResult {
  const [vmidText, template, ...rest] = args;
  if (vmidText === undefined || template === undefined)
    return fail(255, '400 not enough arguments\npct create <vmid> <ostemplate> [OPTIONS]\n');
  if (!/^\d+$/.test(vmidText))
    return fail(255, `400 Parameter verification failed.\nvmid: type check ('integer') failed - got '${vmidText}'\n`);
  const vmid = Number(vmidText);
  const parsed = parseOptions(rest);
  if (parsed.error) return fail(255, parsed.error);
  const { opts } = parsed;
  const now = ctx.now();
  return ctx.store.update((s): ExecResult => {
    const h = s.hosts.find((x) => x.name === host);
    if (!h) return fail(255, `host ${host} vanished\n`);
    const other = s.hosts.find((x) => x.containers.some((c) => c.vmid === vmid));
    if (other) return fail(255, `unable to create CT ${vmid} - CT ${vmid} already exists on node '${other.name}'\n`);
    const m = /^local:vztmpl\/(.+)$/.exec(template);
    if (!m || !('content' in readFile(h.fs, `${TEMPLATE_DIR}/${m[1] ?? ''}`)))
      return fail(255, `unable to create CT ${vmid} - volume '${template}' does not exist\n`);
    const rootfs = opts.get('rootfs') ?? `${opts.get('storage') ?? 'local'}:4`;
    const rm = /^([A-Za-z][\w.-]*):(\d+)$/.exec(rootfs);
    if (!rm)
      return fail(255, `400 Parameter verification failed.\nrootfs: invalid format - expected <storage>:<size in GiB>, got '${rootfs}'\n`);
    const size = Number(rm[2]);
    const hostname = opts.get('hostname') ?? `CT${vmid}`;
    const config: Array<[string, string]> = [['arch', opts.get('arch') ?? 'amd64']];
    for (const k of ['cores', 'features', 'hostname', 'memory', 'net0', 'onboot']) {
      const v = k === 'hostname' ? hostname : opts.get(k);
      if (v !== undefined) config.push([k, v]);
    }
    config.push(
      ['ostype', opts.get('ostype') ?? 'debian'],
      ['rootfs', `${rm[1]}:vm-${vmid}-disk-0,size=${size}G`],
      ['swap', opts.get('swap') ?? '512'],
    );
    if (opts.has('tags')) config.push(['tags', opts.get('tags') ?? '']);
    config.push(['unprivileged', opts.get('unprivileged') ?? '0']);
    const fs = newFs(['/var/lib', '/etc/rancher']);
    fs['/etc/hostname'] = { content: `${hostname}\n`, mode: 0o644 };
    fs['/etc/os-release'] = { content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', mode: 0o644 };
    const ct: ContainerState = {
      vmid,
      hostname,
      status: 'stopped',
      lock: '',
      config,
      snapshots: [],
      fs,
      k3s: { binaryVersion: undefined, services: {}, dataCluster: undefined },
      switches: {},
      startedAt: now,
      maxmem: Number(opts.get('memory') ?? 512) * 1024 ** 2,
      maxdisk: size * 1024 ** 3,
      maxcpu: Number(opts.get('cores') ?? 1),
    };
    h.containers.push(ct);
    return ok(
      `  Logical volume "vm-${vmid}-disk-0" created.\nCreating filesystem with ${size * 262144} 4k blocks\nextracting archive '${TEMPLATE_DIR}/${m[1]}'\nTotal bytes read: 521902080 (498MiB, 141MiB/s)\nDetected container architecture: amd64\nCreating SSH host keys from template...\n`,
    );
  });
}

/** `pct set <vmid> --key value... [--delete k1,k2]` (lxc.* keys are not settable, as on Proxmox). */
export function pctSet(ctx: ExecContext, host: string, vmid: number, args: string[]): ExecResult {
  const parsed = parseOptions(args);
  if (parsed.error) return fail(255, parsed.error);
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, host, vmid);
    if (!loc) return fail(255, `Configuration file 'nodes/${host}/lxc/${vmid}.conf' does not exist\n`);
    const { ct } = loc;
    if (ct.lock !== '') return fail(255, `CT is locked (${ct.lock})\n`);
    for (const [k, v] of parsed.opts) {
      if (k === 'unprivileged') return fail(255, `400 Parameter verification failed.\nunprivileged: unable to modify read-only option\n`);
      const i = ct.config.findIndex(([key]) => key === k);
      if (i >= 0) ct.config[i] = [k, v];
      else {
        // pmxcfs keeps the keys sorted, lxc.* lines after them.
        const j = ct.config.findIndex(([key]) => key.startsWith('lxc.') || key > k);
        ct.config.splice(j < 0 ? ct.config.length : j, 0, [k, v]);
      }
      if (k === 'hostname') ct.hostname = v;
    }
    ct.config = ct.config.filter(([k]) => !parsed.del.includes(k));
    return ok();
  });
}

/** At boot: `lxc.mount.entry: /dev/kmsg dev/kmsg ... create=file` makes /dev/kmsg exist. */
export function applyBootMounts(ct: ContainerState): void {
  if (ct.config.some(([k, v]) => k === 'lxc.mount.entry' && /^\/dev\/kmsg\s+dev\/kmsg\s/.test(v))) {
    mkdirp(ct.fs, '/dev');
    ct.fs['/dev/kmsg'] ??= { content: '', mode: 0o644 };
  }
}

/** A k3s.yaml as k3s writes it: cluster, context and user all named `default`, API on 127.0.0.1. */
export function kubeconfigYaml(seed: string): string {
  const b64 = (x: string) => Buffer.from(x).toString('base64');
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(`-----BEGIN CERTIFICATE-----\nlab CA ${seed}\n-----END CERTIFICATE-----\n`)}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${b64(`-----BEGIN CERTIFICATE-----\nlab admin ${seed}\n-----END CERTIFICATE-----\n`)}
    client-key-data: ${b64(`-----BEGIN EC PRIVATE KEY-----\nlab key ${seed}\n-----END EC PRIVATE KEY-----\n`)}
`;
}

/** What a k3s server that came up leaves: the token files and the admin kubeconfig (kept when present). */
export function ensureServerFiles(s: LabState, ct: ContainerState): void {
  mkdirp(ct.fs, '/var/lib/rancher/k3s/server');
  mkdirp(ct.fs, '/etc/rancher/k3s');
  ct.fs[TOKEN_FILE] ??= { content: `${s.token}\n`, mode: 0o600 };
  ct.fs['/var/lib/rancher/k3s/server/node-token'] ??= { content: `${s.token}\n`, mode: 0o600 };
  ct.fs[KUBECONFIG_FILE] ??= { content: kubeconfigYaml(s.cluster), mode: 0o600 };
}

/** The cluster id a server with no datastore and nothing to join creates: the lab's own while it has none. */
export function newClusterId(s: LabState, ct: ContainerState): string {
  return s.clusters[s.cluster] === undefined ? s.cluster : `${ct.hostname}-cluster`;
}

/** `k3s-uninstall.sh` / `k3s-agent-uninstall.sh`: stop, remove the service, its files and (last one) k3s. */
export function runUninstallScript(ctx: ExecContext, ref: ContainerRef, service: ServiceName): ExecResult {
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    const out: string[] = [];
    for (const name of ['k3s', 'k3s-agent'] as const) stopService(ct, name);
    delete ct.k3s.services[service];
    for (const p of [unitPath(service), envPath(service), `/usr/local/bin/${service}-uninstall.sh`]) {
      if (ct.fs[p]) {
        delete ct.fs[p];
        out.push(`+ rm -f ${p}`);
      }
    }
    const others = Object.keys(ct.k3s.services).length > 0;
    if (!others) {
      for (const p of [BIN, '/usr/local/bin/kubectl', '/usr/local/bin/crictl', '/usr/local/bin/ctr', '/usr/local/bin/k3s-killall.sh'])
        delete ct.fs[p];
      for (const d of ['/var/lib/rancher/k3s', '/etc/rancher/k3s', '/var/lib/kubelet']) if (ct.fs[d]) remove(ct.fs, d, true);
      ct.k3s = { binaryVersion: undefined, services: {}, dataCluster: undefined };
      out.push('+ rm -rf /etc/rancher/k3s /var/lib/rancher/k3s /var/lib/kubelet /usr/local/bin/k3s');
    } else {
      // Another k3s service remains: restart it, as the real script's killall leaves it stopped until then.
      for (const svc of Object.values(ct.k3s.services)) svc.running = false;
    }
    return ok(`${out.join('\n')}\n`);
  });
}

/** `kubectl delete node <name>`: the node and the pods bound to it leave the cluster. */
export function kubectlDeleteNode(ctx: ExecContext, clusterId: string, rest: string[]): ExecResult {
  const [kind, name, ...more] = rest.filter((a) => a !== '--wait=true' && a !== '--wait');
  if ((kind !== 'node' && kind !== 'nodes' && kind !== 'no') || name === undefined || more.length > 0) {
    return fail(1, `error: the lab's kubectl does not support "kubectl delete ${rest.join(' ')}"\n`);
  }
  return ctx.store.update((s): ExecResult => {
    const cluster: KubeCluster | undefined = s.clusters[clusterId];
    if (!cluster?.nodes[name]) return fail(1, `Error from server (NotFound): nodes "${name}" not found\n`);
    delete cluster.nodes[name];
    cluster.pods = cluster.pods.filter((p) => p.node !== name);
    return ok(`node "${name}" deleted\n`);
  });
}

/** Reads the version of a k3s binary pushed into the container (air gap), from its content. */
export function pushedBinaryVersion(ct: ContainerState): string | undefined {
  const f = readFile(ct.fs, BIN);
  if (!('content' in f)) return undefined;
  return /^\x7fELF k3s (v\S+) \(simulated/.exec(f.content)?.[1];
}

/** Writes a file into a host's file system (tests: air-gap bundles, templates). */
export function putHostFile(s: LabState, host: string, path: string, content: string, mode = 0o644): void {
  const h = s.hosts.find((x) => x.name === host);
  if (!h) throw new UsageError(`lab: no host ${host}`);
  mkdirp(h.fs, path.slice(0, path.lastIndexOf('/')) || '/');
  writeFile(h.fs, path, content, { mode });
}
