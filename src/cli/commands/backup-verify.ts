/**
 * `pve-k3s backup verify [DIR] [--drill]`: checks a backup on this machine (default: the
 * cluster's newest) and, with --drill, restores it into a scratch lab made for the purpose and
 * deleted afterwards. The real cluster is never contacted: the drill does not even open the
 * inventory's hosts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import type { BackupManifest } from '../../backup/store.js';
import type { Scratch } from '../../backup/drill.js';
import { loadInventoryFor, out, printDocument, type GlobalOptions } from '../context.js';

export interface VerifyFlags {
  drill?: boolean;
  to?: string;
}

const VERSION = /^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$/;

/** A throwaway lab shaped like the backup's cluster: one server for SQLite, three for embedded etcd. */
export async function scratchLab(m: BackupManifest): Promise<Scratch> {
  const [{ initLab, renderLabInventory }, { parseInventory }, { connectCluster }] = await Promise.all([
    import('../../lab/index.js'),
    import('../../inventory/index.js'),
    import('../../operation/connect.js'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-drill-'));
  try {
    const servers = m.datastore === 'etcd' ? 3 : 1;
    const lab = await initLab({
      dir: join(dir, 'lab'),
      servers,
      workers: 0,
      hosts: 1,
      cluster: m.cluster,
      ...(m.source.k3sVersion && VERSION.test(m.source.k3sVersion) ? { version: m.source.k3sVersion } : {}),
      timing: { installMs: 10, restartMs: 100, drainPerPodMs: 1, pctExecMs: 0, sshRttMs: 0 },
    });
    const file = join(dir, 'pve-k3s.yaml');
    const text = renderLabInventory(lab);
    writeFileSync(file, text);
    const inventory = parseInventory(text, file);
    const conn = await connectCluster(inventory);
    return {
      description: `a scratch lab (${servers} server${servers > 1 ? 's' : ''}, ${m.datastore}) in ${dir}`,
      inventory,
      shells: conn.shells,
      close: async () => {
        await conn.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export async function verify(g: GlobalOptions, dirArg: string | undefined, flags: VerifyFlags): Promise<number> {
  let dir: string;
  if (dirArg !== undefined) dir = resolve(dirArg);
  else {
    const inv = await loadInventoryFor(g);
    const [{ stateDir }, { defaultBackupRoot, listBackups }] = await Promise.all([
      import('../../inventory/index.js'),
      import('../../backup/store.js'),
    ]);
    const root = flags.to ? resolve(flags.to) : defaultBackupRoot(stateDir(process.env), inv.cluster);
    const newest = listBackups(root, inv.cluster)[0];
    if (!newest)
      throw new UsageError(`no backup of ${inv.cluster} in ${root}`, { hint: 'pass the backup directory, or make one: pve-k3s backup' });
    dir = newest.dir;
  }
  const { verifyBackupDir } = await import('../../backup/verify.js');
  const v = await verifyBackupDir(dir);
  let drillResult: import('../../backup/drill.js').DrillResult | undefined;
  let drillError: string | undefined;
  if (flags.drill && v.manifest && !v.checks.some((c) => c.name === 'checksums' && c.status === 'failed')) {
    const { drill } = await import('../../backup/drill.js');
    try {
      drillResult = await drill(dir, v.manifest, { makeScratch: scratchLab, log: (l) => process.stderr.write(`${l}\n`) });
    } catch (e) {
      drillError = (e as Error).message;
    }
  } else if (flags.drill) drillError = 'not attempted: the backup does not match its manifest';
  const ok = v.ok && drillError === undefined;
  if (g.output !== 'table') {
    await printDocument(g, {
      apiVersion: 'pve-k3s.io/v1',
      kind: 'BackupVerification',
      dir,
      ok,
      checks: v.checks,
      contents: v.contents ?? null,
      drill: flags.drill ? { ...(drillResult ?? {}), error: drillError ?? null } : null,
    });
    return ok ? 0 : 1;
  }
  const m = v.manifest;
  out(
    m
      ? `Backup ${dir}\n  ${m.cluster}, ${m.datastore}, from ${m.source.node} (k3s ${m.source.k3sVersion ?? 'unknown'}), made ${m.createdAt}\n`
      : `Backup ${dir}\n`,
  );
  const word = { ok: 'ok', warning: 'WARNING', failed: 'FAILED' } as const;
  for (const c of v.checks) out(`  ${word[c.status].padEnd(8)} ${c.name}: ${c.message}\n`);
  if (drillResult) {
    const ready = drillResult.nodes.filter((n) => n.ready).map((n) => n.name);
    out(
      `  ok       drill: restored into ${drillResult.scratch} in ${drillResult.seconds.toFixed(1)} s: it holds ${drillResult.nodes.length} node(s) (${drillResult.nodes.map((n) => n.name).join(', ')}), ${drillResult.pods} pod(s), ${drillResult.pdbs} PodDisruptionBudget(s); ${ready.length} Ready there (a node whose kubelet is not in the scratch lab stays NotReady)\n`,
    );
  } else if (drillError) out(`  FAILED   drill: ${drillError}\n`);
  out(ok ? 'Backup verified.\n' : 'Backup NOT verified: see FAILED above.\n');
  return ok ? 0 : 1;
}
