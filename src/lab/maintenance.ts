/**
 * What the lab needs for backups and the doctor: the k3s datastore (SQLite or embedded etcd)
 * as files that can be copied and restored, `sqlite3 .backup`, `k3s etcd-snapshot save`,
 * `k3s server --cluster-reset`, `base64`, `findmnt`, `mount --make-rshared`, `df`, a per
 * container clock, the host's `/etc/pve/lxc/<vmid>.conf` (raw lines with [snapshot]
 * sections, writable), `/etc/pve/storage.cfg`, `/proc/modules`, `modprobe` and `vzdump`.
 */
import { findContainer, startService, type Located } from './k3s-model.js';
import { parseUnitExec, renderEnvFile, renderUnit, unitPath, envPath } from './k3s-files.js';
import { mkdirp, normalizePath, readFile, writeFile, listDir, dirname } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ContainerState, FileMap, HostState, KubeCluster, LabState } from './types.js';
import { UsageError, RunError } from '../domain/errors.js';

/** Lab-only facts the doctor looks at; absent means healthy. */
export interface LabMaintenanceState {
  /** Host kernel modules that are NOT loaded, per host. */
  missingModules?: Record<string, string[]>;
  /** Per container, key `<host>/<vmid>`. */
  containers?: Record<string, { rootPropagation?: 'private' | 'shared'; diskUsedPct?: number; clockOffsetS?: number }>;
  /** How long a vzdump of one container takes (ms). @default 20 */
  vzdumpMs?: number;
}

export const SERVER_DIR = '/var/lib/rancher/k3s/server';
export const DB_DIR = `${SERVER_DIR}/db`;
export const STATE_DB = `${DB_DIR}/state.db`;
export const SNAPSHOT_DIR = `${DB_DIR}/snapshots`;
const LIVE = 'SQLite format 3 (pve-k3s lab: the live datastore)\n';
const HEADER = 'LAB-DATASTORE v1 ';
/** Programs this module answers inside containers (found on pct exec's PATH). */
export const MAINTENANCE_PROGRAMS = ['base64', 'findmnt', 'mount', 'df'];
export const HOST_MODULES = ['overlay', 'br_netfilter', 'nf_conntrack', 'ip_tables', 'vxlan'];

function ext(s: LabState): LabMaintenanceState {
  const x = s as LabState & { maintenance?: LabMaintenanceState };
  x.maintenance ??= {};
  return x.maintenance;
}
function ctExt(s: LabState, host: string, vmid: number) {
  const e = ext(s);
  e.containers ??= {};
  return (e.containers[`${host}/${vmid}`] ??= {});
}

/** A server's datastore kind, from its unit's ExecStart (`--cluster-init` or `--server` = etcd). */
export function datastoreKind(ct: ContainerState): 'sqlite' | 'etcd' | undefined {
  const unit = readFile(ct.fs, unitPath('k3s'));
  if (!('content' in unit)) return undefined;
  const words = parseUnitExec(unit.content);
  const env = readFile(ct.fs, envPath('k3s'));
  const joining = 'content' in env && /^K3S_URL=/m.test(env.content);
  return words.includes('--cluster-init') || words.includes('--server') || joining ? 'etcd' : 'sqlite';
}

/** Writes the datastore files a running server has (state.db, or db/etcd + db/snapshots). */
export function ensureDatastoreFiles(ct: ContainerState): void {
  const kind = datastoreKind(ct);
  if (!kind) return;
  mkdirp(ct.fs, DB_DIR);
  if (kind === 'etcd') {
    mkdirp(ct.fs, `${DB_DIR}/etcd`);
    mkdirp(ct.fs, SNAPSHOT_DIR);
  } else if (!ct.fs[STATE_DB]) {
    ct.fs[STATE_DB] = { content: LIVE, mode: 0o600 };
  }
}

/** Called when a k3s server starts: a state.db replaced by a backup is loaded into its cluster. */
export function onServerStart(s: LabState, loc: Located): void {
  ensureDatastoreFiles(loc.ct);
  const db = loc.ct.fs[STATE_DB];
  const cluster = loc.ct.k3s.dataCluster;
  if (!db || cluster === undefined || !db.content.startsWith(HEADER)) return;
  const snap = parseSnapshot(db.content);
  if (snap) s.clusters[cluster] = snap.kube;
  db.content = LIVE;
}

/** Called when a k3s server stops: SQLite's file now holds the data (a copy taken now is consistent). */
export function onServerStop(s: LabState, ct: ContainerState): void {
  const cluster = ct.k3s.dataCluster;
  if (cluster === undefined || datastoreKind(ct) !== 'sqlite' || !ct.fs[STATE_DB]) return;
  ct.fs[STATE_DB] = { content: snapshotText('sqlite', cluster, s.clusters[cluster]), mode: 0o600 };
}

function snapshotText(kind: 'sqlite' | 'etcd', cluster: string, kube: KubeCluster | undefined): string {
  return `${HEADER}${kind}\n${JSON.stringify({ cluster, kube: kube ?? { nodes: {}, pods: [], pdbs: [] } })}\n`;
}
function parseSnapshot(text: string): { kind: string; cluster: string; kube: KubeCluster } | undefined {
  if (!text.startsWith(HEADER)) return undefined;
  const nl = text.indexOf('\n');
  try {
    const body = JSON.parse(text.slice(nl + 1)) as { cluster: string; kube: KubeCluster };
    return { kind: text.slice(HEADER.length, nl), cluster: body.cluster, kube: body.kube };
  } catch {
    return undefined;
  }
}

/** `k3s etcd-snapshot ...` and `k3s server --cluster-reset ...`; undefined when not one of these. */
export function k3sMaintenance(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult | undefined {
  if (args[0] === 'etcd-snapshot') return etcdSnapshot(ctx, ref, args.slice(1));
  if (args[0] === 'server' && args.includes('--cluster-reset')) return clusterReset(ctx, ref, args.slice(1));
  return undefined;
}

function etcdSnapshot(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const [verb, ...rest] = args;
  if (verb !== 'save') return fail(1, `k3s: the lab models only "k3s etcd-snapshot save [--name N]"\n`);
  const ni = rest.indexOf('--name');
  const name = ni >= 0 ? (rest[ni + 1] ?? 'on-demand') : (rest.find((a) => a.startsWith('--name='))?.slice(7) ?? 'on-demand');
  const now = ctx.now();
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    const svc = ct.k3s.services.k3s;
    if (!svc || datastoreKind(ct) !== 'etcd')
      return fail(1, 'time="" level=fatal msg="etcd database not found in /var/lib/rancher/k3s/server"\n');
    if (!svc.running) return fail(1, 'time="" level=fatal msg="failed to get etcd client: etcd is not running"\n');
    ensureDatastoreFiles(ct);
    const file = `${name}-${ct.hostname}-${Math.floor(now / 1000)}`;
    writeFile(ct.fs, `${SNAPSHOT_DIR}/${file}`, snapshotText('etcd', svc.cluster, s.clusters[svc.cluster]), { mode: 0o600 });
    return fail(0, `time="${new Date(now).toISOString()}" level=info msg="Snapshot ${file} saved."\n`);
  });
}

function clusterReset(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const pathArg =
    args.find((a) => a.startsWith('--cluster-reset-restore-path='))?.slice('--cluster-reset-restore-path='.length) ??
    (args.indexOf('--cluster-reset-restore-path') >= 0 ? args[args.indexOf('--cluster-reset-restore-path') + 1] : undefined);
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    if (ct.k3s.services.k3s?.running)
      return fail(
        1,
        'level=fatal msg="starting kubernetes: preparing server: etcd: listen tcp 127.0.0.1:2380: bind: address already in use"\n',
      );
    const cluster = ct.k3s.dataCluster;
    if (cluster === undefined || datastoreKind(ct) !== 'etcd') return fail(1, 'level=fatal msg="--cluster-reset requires embedded etcd"\n');
    if (pathArg !== undefined) {
      const f = readFile(ct.fs, pathArg);
      if (!('content' in f)) return fail(1, `level=fatal msg="failed to restore snapshot: open ${pathArg}: no such file or directory"\n`);
      const snap = parseSnapshot(f.content);
      if (!snap || snap.kind !== 'etcd')
        return fail(1, `level=fatal msg="failed to restore snapshot: ${pathArg}: snapshot file has wrong format"\n`);
      s.clusters[cluster] = snap.kube;
    }
    return fail(
      0,
      'level=info msg="Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes"\n',
    );
  });
}

/** Programs in a container; undefined when `path` is not one this module answers. */
export function containerMaintenance(
  ctx: ExecContext,
  ref: ContainerRef,
  path: string,
  args: string[],
  stdin: string,
): ExecResult | undefined {
  const base = path.split('/').pop() ?? '';
  const key = (s: LabState) => ctExt(s, ref.host, ref.vmid);
  const withFs = <T>(fn: (fs: FileMap, s: LabState) => T): T =>
    ctx.store.update((s) => {
      const loc = findContainer(s, ref.host, ref.vmid);
      if (!loc)
        throw new RunError(`lab: container ${ref.vmid} vanished`, {
          hint: 'the lab was reset or changed while the command ran: run it again',
        });
      return fn(loc.ct.fs, s);
    });
  if (path === '/usr/bin/sqlite3') return sqlite3(ctx, ref, args);
  if (base === 'date' && args.length === 1 && args[0] === '+%s') {
    const off = ctx.store.read().maintenance?.containers?.[`${ref.host}/${ref.vmid}`]?.clockOffsetS ?? 0;
    return ok(`${Math.floor(ctx.now() / 1000) + off}\n`);
  }
  switch (base) {
    case 'base64': {
      const decode = args.includes('-d') || args.includes('--decode');
      const files = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-w');
      if (decode) {
        if (files.length > 0) return fail(1, 'base64: the lab models only "base64 -d" on stdin\n');
        return ok(Buffer.from(stdin.replace(/\s+/g, ''), 'base64').toString('utf8'));
      }
      let text = stdin;
      if (files[0] !== undefined) {
        const f = withFs((fs) => readFile(fs, files[0] ?? ''));
        if (!('content' in f)) return fail(1, `base64: ${files[0]}: No such file or directory\n`);
        text = f.content;
      }
      const b = Buffer.from(text, 'utf8').toString('base64');
      const wrap = args.includes('-w') && args[args.indexOf('-w') + 1] === '0' ? b : (b.match(/.{1,76}/g) ?? []).join('\n');
      return ok(`${wrap}\n`);
    }
    case 'findmnt': {
      const prop = ctx.store.read().maintenance?.containers?.[`${ref.host}/${ref.vmid}`]?.rootPropagation ?? 'shared';
      if (args.join(' ') === '-no PROPAGATION /' || args.join(' ') === '-n -o PROPAGATION /') return ok(`${prop}\n`);
      return fail(1, `findmnt: the lab models only "findmnt -no PROPAGATION /"\n`);
    }
    case 'mount': {
      if (args.join(' ') !== '--make-rshared /') return fail(32, 'mount: the lab models only "mount --make-rshared /"\n');
      ctx.store.update((s) => {
        key(s).rootPropagation = 'shared';
      });
      return ok();
    }
    case 'df': {
      if (args.join(' ') !== '-Pk /') return fail(1, 'df: the lab models only "df -Pk /"\n');
      const s = ctx.store.read();
      const ct = findContainer(s, ref.host, ref.vmid)?.ct;
      const size = Math.floor((ct?.maxdisk ?? 8 * 1024 ** 3) / 1024);
      const pct = s.maintenance?.containers?.[`${ref.host}/${ref.vmid}`]?.diskUsedPct ?? 31;
      const used = Math.floor((size * pct) / 100);
      return ok(
        `Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/mapper/pve-vm--${ref.vmid}--disk--0 ${size} ${used} ${size - used} ${pct}% /\n`,
      );
    }
    default:
      return undefined;
  }
}

function sqlite3(ctx: ExecContext, ref: ContainerRef, args: string[]): ExecResult {
  const [db, cmd, ...more] = args;
  const m = /^\.backup\s+(?:main\s+)?'?([^']+)'?$/.exec(cmd ?? '');
  if (db === undefined || !m || more.length > 0) return fail(1, 'sqlite3: the lab models only: sqlite3 DB ".backup FILE"\n');
  const target = m[1] ?? '';
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    const cur = readFile(ct.fs, db);
    if (!('content' in cur)) return fail(1, `Error: unable to open database "${db}": unable to open database file\n`);
    const cluster = ct.k3s.dataCluster;
    const text =
      normalizePath(db) === STATE_DB && cluster !== undefined ? snapshotText('sqlite', cluster, s.clusters[cluster]) : cur.content;
    if (writeFile(ct.fs, target, text, { mode: 0o644 }))
      return fail(1, `Error: unable to open database "${target}": unable to open database file\n`);
    return ok();
  });
}

// ---- the Proxmox host: virtual files, modprobe, vzdump ----

const STORAGE_CFG = `dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images

zfspool: local-zfs
\tpool rpool/data
\tsparse
\tcontent images,rootdir
`;

/** `/etc/pve/lxc/<vmid>.conf` as pmxcfs shows it: current config, then one section per snapshot. */
export function renderConf(ct: ContainerState): string {
  const lines = ct.config.map(([k, v]) => `${k}: ${v}`);
  for (const snap of ct.snapshots) {
    lines.push('', `[${snap.name}]`, ...snap.config.map(([k, v]) => `${k}: ${v}`));
    if (snap.parent !== undefined) lines.push(`parent: ${snap.parent}`);
    lines.push(`snaptime: ${snap.snaptime}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads a written conf back into the container: the current section and each snapshot's. */
function absorbConf(ct: ContainerState, text: string): void {
  let section: Array<[string, string]> = [];
  const sections = new Map<string, Array<[string, string]>>();
  let name = '';
  sections.set(name, section);
  for (const line of text.split('\n')) {
    const h = /^\[([^\]]+)\]\s*$/.exec(line);
    if (h) {
      name = h[1] ?? '';
      section = [];
      sections.set(name, section);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    section.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  ct.config = sections.get('') ?? [];
  for (const snap of ct.snapshots) {
    const c = sections.get(snap.name);
    if (c) snap.config = c.filter(([k]) => k !== 'snaptime' && k !== 'parent');
  }
}

/** The host's virtual files (computed from the state when read). */
export function hostVirtualFiles(s: LabState, h: HostState): FileMap {
  const out: FileMap = {
    '/etc/pve': { content: '', mode: 0o755, dir: true },
    '/etc/pve/lxc': { content: '', mode: 0o755, dir: true },
    '/etc/pve/storage.cfg': { content: STORAGE_CFG, mode: 0o640 },
    '/proc': { content: '', mode: 0o555, dir: true },
  };
  const missing = s.maintenance?.missingModules?.[h.name] ?? [];
  out['/proc/modules'] = {
    content: HOST_MODULES.filter((m) => !missing.includes(m))
      .map((m) => `${m} 151552 0 - Live 0x0000000000000000\n`)
      .join(''),
    mode: 0o444,
  };
  for (const ct of h.containers) out[`/etc/pve/lxc/${ct.vmid}.conf`] = { content: renderConf(ct), mode: 0o640 };
  return out;
}

/** Writes back virtual files a host command changed: a conf goes into its container's config. */
export function absorbVirtual(h: HostState, changed: Record<string, string>): void {
  for (const [k, content] of Object.entries(changed)) {
    const conf = /^\/etc\/pve\/lxc\/(\d+)\.conf$/.exec(k);
    const ct = conf ? h.containers.find((c) => c.vmid === Number(conf[1])) : undefined;
    if (ct) absorbConf(ct, content);
  }
}

/** `modprobe` and `vzdump` on a host; undefined for other programs. */
export async function hostMaintenance(ctx: ExecContext, host: string, name: string, args: string[]): Promise<ExecResult | undefined> {
  if (name === 'modprobe') {
    const mods = args.filter((a) => !a.startsWith('-'));
    if (mods.length === 0) return fail(1, 'modprobe: ERROR: missing parameters. See -h.\n');
    const unknown = mods.find((m) => !HOST_MODULES.includes(m));
    if (unknown) return fail(1, `modprobe: FATAL: Module ${unknown} not found in directory /lib/modules/6.8.12-4-pve\n`);
    ctx.store.update((s) => {
      const e = ext(s);
      if (e.missingModules?.[host]) e.missingModules[host] = e.missingModules[host].filter((m) => !mods.includes(m));
    });
    return ok();
  }
  if (name === 'vzdump') return vzdump(ctx, host, args);
  return undefined;
}

async function vzdump(ctx: ExecContext, host: string, args: string[]): Promise<ExecResult> {
  const vmids: number[] = [];
  const opt: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith('--')) opt[a.slice(2)] = args[++i] ?? '';
    else if (/^\d+$/.test(a)) vmids.push(Number(a));
    else return fail(255, `400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID\n`);
  }
  const storage = opt.storage ?? 'local';
  const mode = opt.mode ?? 'snapshot';
  if (!['snapshot', 'suspend', 'stop'].includes(mode))
    return fail(
      255,
      `400 Parameter verification failed.\nmode: value '${mode}' does not have a value in the enumeration 'snapshot, suspend, stop'\n`,
    );
  if (!['local', 'local-lvm', 'local-zfs'].includes(storage))
    return fail(255, `400 Parameter verification failed.\nstorage: storage '${storage}' does not exist\n`);
  if (storage !== 'local')
    return fail(
      255,
      `ERROR: Backup of VM ${vmids[0] ?? ''} failed - storage '${storage}' does not support backups\nINFO: Backup job finished with errors\njob errors\n`,
    );
  const log: string[] = [`INFO: starting new backup job: vzdump ${args.join(' ')}`];
  let errors = 0;
  for (const vmid of vmids) {
    const s = ctx.store.read();
    const loc = findContainer(s, host, vmid);
    if (!loc) {
      log.push(`ERROR: Backup of VM ${vmid} failed - unable to find VM '${vmid}'`);
      errors++;
      continue;
    }
    await ctx.sleep(s.maintenance?.vzdumpMs ?? 20);
    const now = new Date(ctx.now());
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp = `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}-${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
    const archive = `/var/lib/vz/dump/vzdump-lxc-${vmid}-${stamp}.tar.zst`;
    log.push(`INFO: Starting Backup of VM ${vmid} (lxc)`, `INFO: status = ${loc.ct.status}`, `INFO: CT Name: ${loc.ct.hostname}`);
    if (mode === 'snapshot' && loc.ct.switches.snapshotsUnsupported)
      log.push('INFO: mode failure - some volumes do not support snapshots', "INFO: trying 'suspend' mode instead");
    log.push(`INFO: creating vzdump archive '${archive}'`);
    ctx.store.update((st) => {
      const h = st.hosts.find((x) => x.name === host);
      if (h) {
        mkdirp(h.fs, dirname(archive));
        writeFile(h.fs, archive, `vzdump of ${vmid}\n`, { mode: 0o644 });
      }
    });
    log.push(`INFO: Finished Backup of VM ${vmid} (00:00:01)`);
  }
  log.push(errors ? 'INFO: Backup job finished with errors' : 'INFO: Backup job finished successfully');
  return { code: errors ? 255 : 0, stdout: '', stderr: `${log.join('\n')}\n` };
}

// ---- breaking a lab on purpose (tests, demos) ----

export type LabBreakage =
  | 'lxc-missing'
  | 'cgroup-v1'
  | 'below-snapshot'
  | 'no-kmsg'
  | 'not-rshared'
  | 'swap'
  | 'no-nesting'
  | 'unprivileged'
  | 'modules'
  | 'zfs-overlay'
  | 'no-kubectl'
  | 'worker-turned-server'
  | 'low-disk'
  | 'clock-skew'
  | 'sqlite3';

export const LAB_BREAKAGES: readonly LabBreakage[] = [
  'lxc-missing',
  'cgroup-v1',
  'below-snapshot',
  'no-kmsg',
  'not-rshared',
  'swap',
  'no-nesting',
  'unprivileged',
  'modules',
  'zfs-overlay',
  'no-kubectl',
  'worker-turned-server',
  'low-disk',
  'clock-skew',
];

function setConf(ct: ContainerState, key: string, value: string | undefined): void {
  const i = ct.config.findIndex(([k]) => k === key);
  if (value === undefined) {
    if (i >= 0) ct.config.splice(i, 1);
    return;
  }
  if (i >= 0) ct.config[i] = [key, value];
  else ct.config.push([key, value]);
}

/**
 * Puts one known breakage into the container named `node` (its host for `modules`), as a user
 * or a bad script would have left it. `sqlite3` is not a breakage: it installs the sqlite3 CLI.
 */
export function labBreak(s: LabState, node: string, what: LabBreakage, now = Date.now()): void {
  const h = s.hosts.find((x) => x.containers.some((c) => c.hostname === node));
  const ct = h?.containers.find((c) => c.hostname === node);
  if (!h || !ct) throw new UsageError(`lab: no container named ${node}`);
  const x = ctExt(s, h.name, ct.vmid);
  switch (what) {
    case 'lxc-missing':
      setConf(ct, 'lxc.apparmor.profile', undefined);
      setConf(ct, 'lxc.cap.drop', undefined);
      break;
    case 'cgroup-v1':
      setConf(ct, 'lxc.cgroup2.devices.allow', undefined);
      ct.config.push(['lxc.cgroup.devices.allow', 'a']);
      break;
    case 'below-snapshot': {
      const lines = ct.config.filter(([k]) => k.startsWith('lxc.'));
      ct.config = ct.config.filter(([k]) => !k.startsWith('lxc.'));
      if (ct.snapshots.length === 0) {
        ct.snapshots.push({
          name: 'before-k3s',
          description: '',
          snaptime: Math.floor(now / 1000) - 86_400,
          parent: undefined,
          config: structuredClone(ct.config),
          fs: {},
          k3s: structuredClone(ct.k3s),
        });
        setConf(ct, 'parent', 'before-k3s');
      }
      const last = ct.snapshots[ct.snapshots.length - 1];
      if (last) last.config.push(...lines);
      break;
    }
    case 'no-kmsg':
      delete ct.fs['/dev/kmsg'];
      ct.config = ct.config.filter(([k, v]) => !(k === 'lxc.mount.entry' && v.includes('kmsg')));
      break;
    case 'not-rshared':
      x.rootPropagation = 'private';
      break;
    case 'swap':
      setConf(ct, 'swap', '512');
      break;
    case 'no-nesting':
      setConf(ct, 'features', undefined);
      break;
    case 'unprivileged':
      setConf(ct, 'unprivileged', '1');
      break;
    case 'modules': {
      const e = ext(s);
      e.missingModules ??= {};
      e.missingModules[h.name] = ['overlay', 'br_netfilter'];
      break;
    }
    case 'zfs-overlay':
      setConf(ct, 'rootfs', `local-zfs:subvol-${ct.vmid}-disk-0,size=40G`);
      break;
    case 'no-kubectl':
      delete ct.fs['/usr/local/bin/kubectl'];
      break;
    case 'low-disk':
      x.diskUsedPct = 96;
      break;
    case 'clock-skew':
      x.clockOffsetS = 300;
      break;
    case 'sqlite3':
      ct.fs['/usr/bin/sqlite3'] = { content: '\x7fELF sqlite3 (lab)\n', mode: 0o755 };
      break;
    case 'worker-turned-server': {
      // What a bare `curl -sfL https://get.k3s.io | sh -` leaves on an agent: a server unit beside it.
      ct.fs[unitPath('k3s')] = { content: renderUnit('k3s', 'server', []), mode: 0o644 };
      ct.fs[envPath('k3s')] = { content: renderEnvFile({}), mode: 0o600 };
      const agent = ct.k3s.services['k3s-agent'];
      ct.k3s.services.k3s = {
        enabled: true,
        running: true,
        startedAt: now,
        runningVersion: ct.k3s.binaryVersion ?? '',
        previousVersion: undefined,
        cluster: '',
        failure: undefined,
      };
      startService(s, { host: h, ct }, 'k3s', now);
      if (agent) ct.k3s.services['k3s-agent'] = agent;
      break;
    }
  }
}

/** Test helper: list a container directory. */
export function labList(s: LabState, node: string, dir: string): string[] {
  const ct = s.hosts.flatMap((h) => h.containers).find((c) => c.hostname === node);
  return ct ? listDir(ct.fs, dir) : [];
}
