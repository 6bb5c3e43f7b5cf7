/**
 * `/etc/pve/lxc/<vmid>.conf` as raw lines: the current configuration, then one `[name]`
 * section per snapshot (lines below the first section belong to that snapshot, which is why
 * `lxc.*` lines appended at the end of the file do nothing). Pure: parse, check, edit.
 */

export interface ConfLine {
  key: string;
  value: string;
}

export interface LxcConf {
  current: ConfLine[];
  /** Snapshot sections in file order. */
  sections: Array<{ name: string; lines: ConfLine[] }>;
  /** The raw text, kept to rewrite it with the current section changed only. */
  raw: string;
}

export function parseConf(text: string): LxcConf {
  const conf: LxcConf = { current: [], sections: [], raw: text };
  let target = conf.current;
  for (const line of text.split('\n')) {
    const h = /^\[([^\]]+)\]\s*$/.exec(line);
    if (h) {
      const sec = { name: h[1] ?? '', lines: [] as ConfLine[] };
      conf.sections.push(sec);
      target = sec.lines;
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    target.push({ key: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
  }
  return conf;
}

/** The `lxc.*` lines k3s needs in a Proxmox container (docs/install.md), with a test for each value. */
export const REQUIRED_LXC: ReadonlyArray<{ key: string; value: string; ok: (v: string) => boolean }> = [
  { key: 'lxc.apparmor.profile', value: 'unconfined', ok: (v) => v === 'unconfined' },
  { key: 'lxc.cgroup2.devices.allow', value: 'a', ok: (v) => v === 'a' },
  { key: 'lxc.cap.drop', value: '', ok: (v) => v === '' },
  { key: 'lxc.mount.auto', value: '"proc:rw sys:rw"', ok: (v) => v.includes('proc:rw') && v.includes('sys:rw') },
];
export const KMSG_ENTRY = '/dev/kmsg dev/kmsg none defaults,bind,create=file';

export function get(lines: readonly ConfLine[], key: string): string | undefined {
  return lines.find((l) => l.key === key)?.value;
}

export function missingLxc(lines: readonly ConfLine[]): Array<{ key: string; value: string }> {
  return REQUIRED_LXC.filter((r) => !lines.some((l) => l.key === r.key && r.ok(l.value))).map(({ key, value }) => ({ key, value }));
}

export interface ConfEdit {
  /** Lines to set in the current section (replacing a line with the same key, else appended). */
  set?: ConfLine[];
  /** Keys renamed (cgroup v1 -> v2). */
  rename?: Array<[string, string]>;
  /** Extra `lxc.mount.entry` line (several may exist: appended unless present). */
  mountEntry?: string;
}

/** Rewrites the file with the current section edited; snapshot sections are kept byte for byte. */
export function editConf(conf: LxcConf, e: ConfEdit): string {
  const text = conf.raw;
  const cut = text.search(/^\[[^\]]+\]\s*$/m);
  const head = cut < 0 ? text : text.slice(0, cut);
  const tail = cut < 0 ? '' : text.slice(cut);
  const lines = head
    .replace(/\n+$/, '')
    .split('\n')
    .filter((l, i, all) => !(all.length === 1 && l === ''));
  for (const [from, to] of e.rename ?? []) {
    for (let i = 0; i < lines.length; i++)
      if ((lines[i] ?? '').startsWith(`${from}:`)) lines[i] = `${to}:${(lines[i] ?? '').slice(from.length + 1)}`;
  }
  for (const s of e.set ?? []) {
    const render = s.value === '' ? `${s.key}:` : `${s.key}: ${s.value}`;
    const i = lines.findIndex((l) => l.startsWith(`${s.key}:`));
    if (i >= 0) lines[i] = render;
    else lines.push(render);
  }
  if (e.mountEntry && !lines.some((l) => l.startsWith('lxc.mount.entry:') && l.includes(e.mountEntry ?? '')))
    lines.push(`lxc.mount.entry: ${e.mountEntry}`);
  return `${lines.join('\n')}\n${tail ? `\n${tail.replace(/^\n+/, '')}` : ''}`;
}
