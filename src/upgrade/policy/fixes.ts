/**
 * The safe fixes of the known issues, applied by `preflight --fix` and `doctor --fix`:
 * a `kube-proxy-arg` added to the node's /etc/rancher/k3s/config.yaml (comments and other keys
 * kept; it applies at k3s's next start, which the upgrade is), and lines of the container's
 * /etc/pve/lxc/<vmid>.conf set or renamed above its [snapshot] sections, followed by the
 * container's restart and a wait until its node is Ready again, one container at a time.
 */
import { systemClock, type Clock } from '../../domain/clock.js';
import { FileError } from '../../domain/errors.js';
import type { Inventory } from '../../inventory/types.js';
import { Kube } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';
import { editConf, parseConf, type ConfEdit } from '../../proxmox/lxc-conf.js';
import { PctPool } from '../../proxmox/pct.js';
import type { Shell } from '../../shell/shell.js';
import { SERVICE } from '../../k3s/install-config.js';
import type { IssueFix } from './known-issues/index.js';

export const K3S_CONFIG = '/etc/rancher/k3s/config.yaml';

export function describeIssueFix(f: IssueFix): string {
  switch (f.kind) {
    case 'kube-proxy-arg':
      return `${f.node}: add kube-proxy-arg ${f.arg} to ${K3S_CONFIG} in CT ${f.vmid}${f.restart ? `, then restart ${SERVICE[f.role]}` : ' (applies when the upgrade restarts k3s)'}`;
    case 'conf-line':
    case 'conf-rename':
      return `${f.node}: ${f.what} in /etc/pve/lxc/${f.vmid}.conf on ${f.host}, then restart the container (pct reboot ${f.vmid}) and wait until the node is Ready`;
  }
}

export interface IssueFixOutcome {
  fix: IssueFix;
  ok: boolean;
  message: string;
}

export interface ApplyIssueFixesInput {
  inventory: Inventory;
  /** A shell per Proxmox host. */
  shells: ReadonlyMap<string, Shell>;
  /** Applied in this order, one container at a time. */
  fixes: readonly IssueFix[];
  /** The hosts' time, for the wait until a restarted node is Ready. @default the system clock */
  clock?: Clock;
  signal?: AbortSignal;
  /** How long a restarted node may take to be Ready again. @default the inventory's upgrade.readyTimeout */
  readyTimeoutMs?: number;
  /** Poll interval while waiting Ready. @default 1000 */
  pollMs?: number;
  /** Parses and edits YAML keeping comments (the `yaml` package, loaded by the caller). */
  yaml: typeof import('yaml');
  /** Told before each fix starts (progress). */
  onStart?: (f: IssueFix) => void;
}

/** Adds `arg` to the `kube-proxy-arg` list of a config.yaml text (creating the key, or a list from a scalar), keeping the rest. */
export function addKubeProxyArg(text: string, arg: string, yaml: typeof import('yaml')): string {
  const doc: import('yaml').Document = yaml.parseDocument(text);
  if (doc.errors.length > 0)
    throw new FileError(`${K3S_CONFIG} is not valid YAML: ${doc.errors[0]?.message ?? ''}`, {
      path: K3S_CONFIG,
      hint: 'fix the file by hand (k3s cannot read it either), then run again',
    });
  // An empty file (or one of comments only) gets a block mapping, as k3s's own examples are written.
  if (doc.contents === null) doc.contents = doc.createNode({});
  const cur: unknown = doc.get('kube-proxy-arg');
  const list = yaml.isSeq(cur) ? (cur.toJSON() as unknown[]) : typeof cur === 'string' ? [cur] : [];
  if (list.includes(arg)) return text;
  doc.set('kube-proxy-arg', doc.createNode([...list, arg]));
  return doc.toString();
}

export async function applyIssueFixes(o: ApplyIssueFixesInput): Promise<IssueFixOutcome[]> {
  const { inventory: inv, shells, fixes } = o;
  const clock = o.clock ?? systemClock;
  const out: IssueFixOutcome[] = [];
  const pcts = new PctPool(shells);
  const { pct } = pcts;
  const ctrl = inv.nodes.find((n) => n.name === inv.controller)!;
  const kube = new Kube(pct(ctrl.host), ctrl.vmid, ctrl.name);
  const run = { timeoutMs: 120_000, ...(o.signal ? { signal: o.signal } : {}) };
  const readyTimeoutMs = o.readyTimeoutMs ?? inv.upgrade.readyTimeoutSeconds * 1000;

  const waitReady = async (node: string): Promise<string | undefined> => {
    const deadline = clock.now() + readyTimeoutMs;
    let last = 'not seen yet';
    // A restart takes the node down first: look for Ready only once it has been seen not Ready, or after a pause.
    await clock.sleep(o.pollMs ?? 1000, o.signal);
    while (clock.now() < deadline) {
      try {
        const n = await kube.node(node, run);
        if (n?.ready) return undefined;
        last = n ? 'NotReady' : 'not registered';
      } catch (err) {
        last = `API not answering (${(err as Error).message})`;
      }
      await clock.sleep(o.pollMs ?? 1000, o.signal);
    }
    return last;
  };

  // One container's conf edits go into one write and one restart.
  const byCt = new Map<string, IssueFix[]>();
  for (const f of fixes) {
    const key = `${f.host}/${f.vmid}/${f.kind === 'kube-proxy-arg' ? 'k3s' : 'conf'}`;
    byCt.set(key, [...(byCt.get(key) ?? []), f]);
  }
  for (const group of byCt.values()) {
    const first = group[0]!;
    for (const f of group) o.onStart?.(f);
    const p = pct(first.host);
    if (first.kind === 'kube-proxy-arg') {
      const cur = await p.exec(first.vmid, ['sh', '-c', `test -e ${K3S_CONFIG} || exit 0; cat ${K3S_CONFIG}`], run);
      if (cur.code !== 0) {
        for (const f of group)
          out.push({ fix: f, ok: false, message: `cannot read ${K3S_CONFIG}: ${failureReason(cur, { singleLine: true })}` });
        continue;
      }
      let text: string;
      try {
        text = group.reduce((t, f) => (f.kind === 'kube-proxy-arg' ? addKubeProxyArg(t, f.arg, o.yaml) : t), cur.stdout);
      } catch (err) {
        for (const f of group) out.push({ fix: f, ok: false, message: (err as Error).message });
        continue;
      }
      // Written beside it and moved over it; 0600: config.yaml may hold the token.
      const w = await p.exec(
        first.vmid,
        [
          'sh',
          '-c',
          'mkdir -p /etc/rancher/k3s && cat > "$1.pve-k3s.tmp" && chmod 600 "$1.pve-k3s.tmp" && mv "$1.pve-k3s.tmp" "$1"',
          'sh',
          K3S_CONFIG,
        ],
        { ...run, stdin: text },
      );
      if (w.code !== 0) {
        for (const f of group)
          out.push({ fix: f, ok: false, message: `cannot write ${K3S_CONFIG}: ${failureReason(w, { singleLine: true })}` });
        continue;
      }
      if (first.restart) {
        const r = await p.exec(first.vmid, ['systemctl', 'restart', SERVICE[first.role]], { ...run, timeoutMs: readyTimeoutMs });
        const notReady = r.code === 0 ? await waitReady(first.node) : failureReason(r, { singleLine: true });
        for (const f of group)
          out.push({
            fix: f,
            ok: notReady === undefined,
            message: notReady === undefined ? 'written; k3s restarted, node Ready' : `written, but after the restart: ${notReady}`,
          });
      } else
        for (const f of group) out.push({ fix: f, ok: true, message: 'written; applies when k3s next starts (the upgrade restarts it)' });
      continue;
    }
    const file = `/etc/pve/lxc/${first.vmid}.conf`;
    const cur = await p.shell.run(['cat', file], run);
    if (cur.code !== 0) {
      for (const f of group) out.push({ fix: f, ok: false, message: `cannot read ${file}: ${failureReason(cur, { singleLine: true })}` });
      continue;
    }
    let text = cur.stdout;
    for (const f of group) {
      const edit: ConfEdit =
        f.kind === 'conf-line'
          ? { set: [{ key: f.key, value: f.value }] }
          : f.kind === 'conf-rename'
            ? { rename: f.from.map((k) => [k, k.replace(/^lxc\.cgroup\./, 'lxc.cgroup2.')] as [string, string]) }
            : {};
      text = editConf(parseConf(text), edit);
    }
    const w = await p.shell.run(['sh', '-c', 'cat > "$1.pve-k3s.tmp" && mv "$1.pve-k3s.tmp" "$1"', 'sh', file], { ...run, stdin: text });
    if (w.code !== 0) {
      for (const f of group) out.push({ fix: f, ok: false, message: `cannot write ${file}: ${failureReason(w, { singleLine: true })}` });
      continue;
    }
    const r = await p.shell.run(['pct', 'reboot', String(first.vmid)], { ...run, timeoutMs: 10 * 60_000 });
    if (r.code !== 0) {
      for (const f of group)
        out.push({
          fix: f,
          ok: false,
          message: `written, but pct reboot ${first.vmid} failed: ${failureReason(r, { singleLine: true })}; restart it by hand`,
        });
      continue;
    }
    await p.closeSessions(first.vmid);
    const notReady = await waitReady(first.node);
    for (const f of group)
      out.push({
        fix: f,
        ok: notReady === undefined,
        message:
          notReady === undefined
            ? 'written; container restarted, node Ready'
            : `written and restarted, but the node is not Ready: ${notReady}`,
      });
  }
  await pcts.closeSessions();
  return out;
}
