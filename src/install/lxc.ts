/**
 * What a container needs before k3s can run in it (docs/install.md), from its raw
 * `/etc/pve/lxc/<vmid>.conf`: pure. The `lxc.*` lines go into the current section, above the
 * first `[snapshot]` section (lines below it belong to that snapshot), cgroup2 keys only;
 * `features: nesting=1` and `swap: 0` are set with `pct set`.
 */
import { editConf, get, KMSG_ENTRY, missingLxc, parseConf, type ConfEdit } from '../proxmox/lxc-conf.js';

export interface ContainerNeeds {
  /** `pct set` arguments (after `pct set <vmid>`), empty when nothing to set. */
  pctSet: string[];
  /** The edit of the conf's current section, or undefined when the lxc.* lines are right. */
  confEdit: ConfEdit | undefined;
  /** One line per change, for the plan. */
  changes: string[];
  /** Why k3s cannot run in it and pve-k3s will not fix it (an unprivileged container). */
  blocker: string | undefined;
}

export function containerNeeds(confText: string, vmid: number): ContainerNeeds {
  const conf = parseConf(confText);
  const cur = conf.current;
  const changes: string[] = [];
  const pctSet: string[] = [];
  const blocker = get(cur, 'unprivileged') === '1' ? `container ${vmid} is unprivileged; k3s needs a privileged container` : undefined;
  const features = get(cur, 'features') ?? '';
  const parts = features.split(',').filter(Boolean);
  if (!parts.includes('nesting=1')) {
    const merged = [...parts.filter((p) => !p.startsWith('nesting=')), 'nesting=1'].join(',');
    pctSet.push('--features', merged);
    changes.push(`features: ${merged}`);
  }
  if ((get(cur, 'swap') ?? '0') !== '0') {
    pctSet.push('--swap', '0');
    changes.push('swap: 0');
  }
  const edit: ConfEdit = {};
  const v1 = cur.filter((l) => l.key.startsWith('lxc.cgroup.')).map((l) => l.key);
  if (v1.length > 0) {
    edit.rename = v1.map((k) => [k, k.replace(/^lxc\.cgroup\./, 'lxc.cgroup2.')]);
    changes.push(`cgroup v1 keys renamed to cgroup2: ${v1.join(', ')}`);
  }
  const renamed = cur.map((l) => ({ key: l.key.replace(/^lxc\.cgroup\./, 'lxc.cgroup2.'), value: l.value }));
  const missing = missingLxc(renamed);
  if (missing.length > 0) {
    edit.set = missing;
    const below = conf.sections.some((s) => s.lines.some((l) => missing.some((m) => m.key === l.key)));
    changes.push(
      `${missing.map((m) => (m.value === '' ? `${m.key}:` : `${m.key}: ${m.value}`)).join(', ')}${below ? ' (found only below a [snapshot] section)' : ''}`,
    );
  }
  if (!cur.some((l) => l.key === 'lxc.mount.entry' && l.value.includes('dev/kmsg'))) {
    edit.mountEntry = KMSG_ENTRY;
    changes.push(`lxc.mount.entry: ${KMSG_ENTRY}`);
  }
  const confEdit = edit.rename || edit.set || edit.mountEntry ? edit : undefined;
  return { pctSet, confEdit, changes, blocker };
}

/** The conf text with the edit applied to its current section; snapshot sections byte for byte. */
export function applyConfEdit(confText: string, edit: ConfEdit): string {
  return editConf(parseConf(confText), edit);
}

/** True when the current section has every lxc.* line k3s needs (a re-read after writing). */
export function confReady(confText: string): boolean {
  const cur = parseConf(confText).current;
  return (
    missingLxc(cur).length === 0 &&
    !cur.some((l) => l.key.startsWith('lxc.cgroup.')) &&
    cur.some((l) => l.key === 'lxc.mount.entry' && l.value.includes('dev/kmsg'))
  );
}
