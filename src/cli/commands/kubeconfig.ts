/**
 * `pve-k3s kubeconfig [--out FILE] [--context NAME]`: the admin kubeconfig of a server, with the
 * server URL rewritten to an address reachable from this machine, merged into ~/.kube/config
 * (or $KUBECONFIG's first file) under a context named after the cluster, or written to FILE.
 * Files are written 0600 (the kubeconfig holds the admin key).
 */
import { chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PlanError, RunError, UsageError, fileError } from '../../domain/errors.js';
import { failureReason } from '../../shell/reason.js';
import { out, withCluster, type GlobalOptions } from '../context.js';

export interface KubeconfigFlags {
  out?: string;
  context?: string;
}

const K3S_YAML = '/etc/rancher/k3s/k3s.yaml';
const CONTEXT_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,252}$/;

export async function kubeconfig(g: GlobalOptions, flags: KubeconfigFlags): Promise<number> {
  const name = flags.context ?? undefined;
  if (name !== undefined && !CONTEXT_RE.test(name)) throw new UsageError(`--context ${JSON.stringify(name)}: use letters, digits, . _ @ -`);
  return withCluster(g, async (conn) => {
    const inv = conn.inventory;
    const context = name ?? inv.cluster;
    const servers = inv.nodes.filter((n) => n.role === 'server');
    const { probeInstall } = await import('../../install/probe.js');
    const { runningServer } = await import('../../install/plan.js');
    const facts = await probeInstall(inv, conn.shells, { nodes: servers });
    const server = runningServer(inv, facts)?.node;
    if (!server)
      throw new PlanError(`no server of ${inv.cluster} runs k3s: there is no kubeconfig to fetch`, {
        reason: 'no-server',
        hint: 'install the cluster first: pve-k3s install',
      });
    const { Pct } = await import('../../proxmox/pct.js');
    const shell = conn.shells.get(server.host);
    if (!shell) throw new TypeError(`no shell for ${server.host}`);
    const pct = new Pct(shell);
    const r = await pct.exec(server.vmid, ['cat', K3S_YAML], { timeoutMs: 60_000 });
    if (r.code !== 0)
      throw new RunError(`cannot read ${K3S_YAML} on ${server.name}: ${failureReason({ ...r, stdout: '' })}`, {
        node: server.name,
        hint: `check k3s on ${server.name}: pct exec ${server.vmid} -- systemctl status k3s (on ${server.host})`,
      });
    const address = await serverAddress(pct, server);
    const { parse, stringify } = await import('yaml');
    const { rewriteKubeconfig, mergeKubeconfig } = await import('../../install/kubeconfig.js');
    let ours;
    try {
      ours = rewriteKubeconfig(parse(r.stdout) as import('../../install/kubeconfig.js').KubeconfigDoc, address, context);
    } catch (err) {
      throw new RunError(`${K3S_YAML} on ${server.name} is not a kubeconfig pve-k3s understands: ${(err as Error).message}`, {
        node: server.name,
      });
    }
    const url = ours.clusters?.[0]?.cluster.server ?? '';
    if (flags.out !== undefined) {
      const file = resolve(flags.out);
      await writePrivate(file, stringify(ours), '--out');
      out(`Wrote the kubeconfig of ${inv.cluster} (server ${url}, context ${context}) to ${file} (mode 0600).\n`);
      out(`Try: kubectl --kubeconfig ${file} get nodes\n`);
      return 0;
    }
    const file = kubeconfigPath();
    let existing;
    if (existsSync(file)) {
      let text;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw fileError(err, { action: 'read the kubeconfig', path: file, hint: kubeconfigHint(file) });
      }
      try {
        existing = parse(text) ?? undefined;
      } catch (err) {
        throw new UsageError(
          `${file} is not valid YAML, so the cluster cannot be merged into it: ${(err as Error).message.split('\n')[0]}`,
          { hint: 'fix it, or write a separate file with --out FILE' },
        );
      }
    }
    const merged = mergeKubeconfig(existing, ours);
    await writePrivate(file, stringify(merged), kubeconfigHint(file));
    out(`Merged the kubeconfig of ${inv.cluster} into ${file} as context ${context} (server ${url}); it is now the current context.\n`);
    out(`Try: kubectl --context ${context} get nodes\n`);
    return 0;
  });
}

function kubeconfigPath(): string {
  const first = (process.env['KUBECONFIG'] ?? '').split(':').find((p) => p !== '');
  return first !== undefined ? resolve(first) : join(homedir(), '.kube', 'config');
}

/** The server's address: the static ip of its net0, else its node's InternalIP. */
async function serverAddress(
  pct: import('../../proxmox/pct.js').Pct,
  server: { name: string; vmid: number; host: string },
): Promise<string> {
  const { staticIp } = await import('../../install/settings.js');
  const cfg = await pct.shell.run(['pct', 'config', String(server.vmid)], { timeoutMs: 60_000 });
  const ip = staticIp(/^net0:\s*(.*)$/m.exec(cfg.stdout)?.[1]);
  if (ip !== undefined) return ip;
  const { parseJsonOutput } = await import('../../kube/nodes.js');
  const r = await pct.exec(server.vmid, ['/usr/local/bin/kubectl', 'get', 'node', server.name, '-o', 'json'], { timeoutMs: 60_000 });
  try {
    const doc = parseJsonOutput(r.stdout) as { status?: { addresses?: Array<{ type?: string; address?: string }> } };
    const a = doc.status?.addresses?.find((x) => x.type === 'InternalIP')?.address;
    if (a) return a;
  } catch {
    // fall through
  }
  throw new RunError(`cannot tell the address of ${server.name}: its net0 has no static ip and its node no InternalIP`, {
    node: server.name,
    hint: 'give it a static address, or edit the server: line of the kubeconfig by hand',
  });
}

function kubeconfigHint(file: string): string {
  return `${file} comes from $KUBECONFIG or ~/.kube/config: fix it, or write a separate file with --out FILE`;
}

/**
 * Writes a file only its owner can read, atomically (temp file, then rename). `how` is the
 * option that named it (`--out`) or the hint to give when it cannot be written.
 */
async function writePrivate(file: string, text: string, how: string): Promise<void> {
  const hint = how === '--out' ? undefined : how;
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory())
    throw new UsageError(`cannot write the kubeconfig to ${file}: it is a directory`, {
      hint: how === '--out' ? `name a file: --out ${join(file, 'config')}` : hint,
    });
  const { ensureDir } = await import('../../operation/local-files.js');
  ensureDir(dirname(file), { action: 'write the kubeconfig to', path: file, ...(hint ? { hint } : {}) });
  const tmp = `${file}.pve-k3s-${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    // The temporary file's name means nothing to the user: the error is about the file.
    if ((err as { path?: unknown }).path === tmp) (err as { path?: unknown }).path = undefined;
    throw fileError(err, { action: 'write the kubeconfig to', path: file, ...(hint ? { hint } : {}) });
  }
}
