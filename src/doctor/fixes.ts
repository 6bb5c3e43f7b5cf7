/** `doctor --fix`: the safe fixes, each described before it is applied, then applied and reported. */
import type { Inventory } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { KUBECTL } from '../kube/kube.js';
import { CORDON_ANNOTATION } from '../status/upgrade-state.js';
import { editConf, parseConf } from '../proxmox/lxc-conf.js';
import { invariant } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import { applyIssueFixes, describeIssueFix } from '../upgrade/policy/fixes.js';
import type { CheckResult, Fix } from './types.js';

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
    case 'issue':
      return describeIssueFix(f.fix);
  }
}

/** A fix that restarts a container or k3s (asked before, unless --yes). */
export function restarts(f: Fix): boolean {
  return f.kind === 'issue' && (f.fix.kind !== 'kube-proxy-arg' || f.fix.restart);
}

/**
 * The fixes of the problems found, each once: a known issue's rename of cgroup v1 keys does what
 * the doctor's own cgroup-v1 fix does (and restarts the container), so the doctor's is dropped.
 */
export function fixesOf(results: readonly CheckResult[]): Fix[] {
  const fixes = results.filter((r) => r.status === 'fail' || r.status === 'warn').flatMap((r) => (r.autoFix ? [r.autoFix] : []));
  const renamed = new Set(
    fixes.flatMap((f) => (f.kind === 'issue' && f.fix.kind === 'conf-rename' ? [`${f.fix.host}/${f.fix.vmid}`] : [])),
  );
  const seen = new Set<string>();
  return fixes.filter((f) => {
    if (f.kind === 'conf' && f.edit.rename && !f.edit.set && renamed.has(`${f.host}/${f.vmid}`)) return false;
    const key = JSON.stringify(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface ApplyFixesInput {
  inventory: Inventory;
  /** A shell per Proxmox host. */
  shells: ReadonlyMap<string, Shell>;
  fixes: readonly Fix[];
  /** The hosts' time, for the wait until a restarted node is Ready. @default the system clock */
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Applies fixes; conf edits to one container are merged into one rewrite, checked against a
 * re-read. The known issues' fixes come last (src/upgrade/policy/fixes.ts): a container they
 * restart then also applies the doctor's own edits to its conf.
 */
export async function applyFixes(input: ApplyFixesInput): Promise<FixOutcome[]> {
  const { inventory: inv, shells, fixes, signal } = input;
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
  const issues = fixes.flatMap((f) => (f.kind === 'issue' ? [f] : []));
  if (issues.length > 0) {
    const yaml = await import('yaml');
    const done = await applyIssueFixes({
      inventory: inv,
      shells,
      fixes: issues.map((f) => f.fix),
      yaml,
      ...(input.clock ? { clock: input.clock } : {}),
      ...(signal ? { signal } : {}),
    });
    for (const d of done) out.push({ fix: issues.find((f) => f.fix === d.fix)!, ok: d.ok, message: d.message });
  }
  return out;
}
