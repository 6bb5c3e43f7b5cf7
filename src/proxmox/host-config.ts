/**
 * What a Proxmox host says about itself, parsed: `/etc/pve/storage.cfg` (storage types, for
 * snapshot support), `/etc/pve/ha/resources.cfg` (containers under HA), the `crs:` line of
 * `/etc/pve/datacenter.cfg` (the HA scheduler and its rebalancing), and `pveversion -v`
 * (package versions). Pure.
 */

/** storage.cfg: `<type>: <id>` headers, each followed by indented options. */
export function parseStorageTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+):\s*(\S+)\s*$/gm)) out.set(m[2] ?? '', m[1] ?? '');
  return out;
}

/**
 * Storage types on which `pct snapshot` works for a container volume: ZFS, LVM-thin, Ceph RBD
 * and btrfs. Directory storages (dir, nfs, cifs, glusterfs: raw container volumes) and thick
 * LVM do not snapshot containers.
 */
export const SNAPSHOT_STORAGE_TYPES: ReadonlySet<string> = new Set(['zfspool', 'lvmthin', 'rbd', 'btrfs']);

/** The storage ids of a container's volumes: `rootfs` and every `mpN` that is a storage volume (not a bind mount). */
export function containerStorages(conf: ReadonlyArray<{ key: string; value: string }>): Array<{ key: string; storage: string }> {
  const out: Array<{ key: string; storage: string }> = [];
  for (const l of conf) {
    if (l.key !== 'rootfs' && !/^mp\d+$/.test(l.key)) continue;
    const volume = l.value.split(',')[0] ?? '';
    // A bind mount (`mp0: /srv/data,mp=/data`) is a host path, not a storage volume.
    if (volume.startsWith('/')) continue;
    const storage = volume.split(':')[0] ?? '';
    if (storage !== '') out.push({ key: l.key, storage });
  }
  return out;
}

export interface HaResource {
  /** `ct` or `vm`. */
  type: string;
  vmid: number;
  /** `started` (the default), `stopped`, `disabled`, `ignored`. */
  state: string;
}

/** resources.cfg: `ct: 101` headers with indented `state started`, `group ...` options. */
export function parseHaResources(text: string): HaResource[] {
  const out: HaResource[] = [];
  let cur: HaResource | undefined;
  for (const line of text.split('\n')) {
    const h = /^(ct|vm):\s*(\d+)\s*$/.exec(line);
    if (h) {
      cur = { type: h[1] ?? 'ct', vmid: Number(h[2]), state: 'started' };
      out.push(cur);
      continue;
    }
    const o = /^\s+(\S+)\s+(.*?)\s*$/.exec(line);
    if (o && cur && o[1] === 'state') cur.state = o[2] ?? cur.state;
    if (line.trim() !== '' && !/^\s/.test(line)) cur = undefined;
  }
  return out;
}

/**
 * The Cluster Resource Scheduler from datacenter.cfg's `crs:` line (`ha=static,ha-rebalance-on-start=1`):
 * its mode, and whether it moves running HA resources by itself (rebalancing, or the dynamic
 * load balancer of Proxmox VE 9.2).
 */
export function parseCrs(datacenterCfg: string): { mode: string; rebalances: boolean; raw: string | undefined } {
  const line = /^crs:\s*(.*)$/m.exec(datacenterCfg)?.[1]?.trim();
  if (line === undefined) return { mode: 'basic', rebalances: false, raw: undefined };
  const opts = new Map(
    line.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      return [(k ?? '').trim(), (v ?? '').trim()] as const;
    }),
  );
  const mode = opts.get('ha') ?? 'basic';
  const rebalances = mode === 'dynamic' || [...opts].some(([k, v]) => /rebalanc|balanc/.test(k) && v !== '0' && v !== '');
  return { mode, rebalances, raw: line };
}

export interface PveVersions {
  /** pve-manager's version, e.g. `9.0.6`. */
  manager: string | undefined;
  /** lxc-pve's version, e.g. `6.0.5-2`. */
  lxc: string | undefined;
  /** zfsutils-linux's version, e.g. `2.3.4-pve1`. */
  zfs: string | undefined;
}

/** `pveversion -v`: `package: version` lines (pve-manager's shows `9.0.6 (running version: ...)`). */
export function parsePveVersion(text: string): PveVersions {
  const get = (pkg: string) => new RegExp(`^${pkg}:\\s*(\\S+)`, 'm').exec(text)?.[1];
  return { manager: get('pve-manager'), lxc: get('lxc-pve'), zfs: get('zfsutils-linux') };
}

/**
 * Compares Debian-style versions of the kind Proxmox packages use (`6.0.5-2`, `2.2.7-pve2`):
 * numeric runs as numbers, other runs as text. Negative if a < b.
 */
export function comparePackageVersions(a: string, b: string): number {
  const parts = (v: string) => v.match(/\d+|[a-z]+/gi) ?? [];
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (x !== y) return nx ? 1 : ny ? -1 : x < y ? -1 : 1;
  }
  return 0;
}
