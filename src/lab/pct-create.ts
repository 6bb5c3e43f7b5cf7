/**
 * `pct create <vmid> <template> [--key value]...` (a stopped container, from a template in the
 * host's `/var/lib/vz/template/cache`) and `pct set <vmid> --key value... [--delete k]`, with
 * Proxmox's messages for options outside the modelled schema.
 */
import { findContainer } from './k3s-model.js';
import { newFs, readFile } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ContainerState } from './types.js';

export const TEMPLATE_DIR = '/var/lib/vz/template/cache';
export const LAB_TEMPLATE = 'debian-12-standard_12.7-1_amd64.tar.zst';

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
export function pctSet(ctx: ExecContext, { host, vmid }: ContainerRef, args: string[]): ExecResult {
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
