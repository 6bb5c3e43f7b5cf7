/** `pve-k3s backup` and `pve-k3s restore <backup>`. File contents are never printed. */
import { basename, resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import { loadInventoryFor, out, printDocument, withCluster, type GlobalOptions } from '../context.js';
import { parseRetention, parseVzdumpKeep, type RetentionFlags } from './backup-options.js';
import type { ClusterConnection } from '../../operation/connect.js';
import type { GuardEnv } from '../../operation/guard.js';

export interface BackupFlags extends RetentionFlags {
  /** Off-host copies: directories or host:/path (repeatable). */
  copyTo?: string[];
  /** vzdump's own retention (--prune-backups). */
  vzdumpKeep?: string;
  latestSnapshot?: boolean;
  vzdump?: boolean;
  mode?: 'snapshot' | 'suspend' | 'stop';
  storage?: string;
  to?: string;
  offline?: boolean;
}

async function rootFor(to: string | undefined, cluster: string): Promise<string> {
  if (to !== undefined) return resolve(to);
  const { stateDir } = await import('../../inventory/index.js');
  const { defaultBackupRoot } = await import('../../backup/store.js');
  return defaultBackupRoot(stateDir(process.env), cluster);
}

export async function backup(g: GlobalOptions, flags: BackupFlags): Promise<number> {
  const keep = parseRetention(flags);
  if (!flags.vzdump && (flags.mode !== undefined || flags.storage !== undefined || flags.vzdumpKeep !== undefined))
    throw new UsageError('--mode, --storage and --vzdump-keep apply to --vzdump', { hint: 'add --vzdump' });
  const prune = flags.vzdumpKeep === undefined ? undefined : parseVzdumpKeep(flags.vzdumpKeep);
  const { parseDestination } = await import('../../backup/copy.js');
  for (const d of flags.copyTo ?? []) parseDestination(d);
  const inv = await loadInventoryFor(g);
  const root = await rootFor(flags.to, inv.cluster);
  let reached = false;
  const started = new Date().toISOString();
  try {
    return await withCluster(g, async (conn) => {
      const log = (l: string) => process.stderr.write(`${l}\n`);
      reached = true;
      const opts: BackupRunOptions = {
        root,
        ...(keep !== undefined ? { keep } : {}),
        offline: flags.offline ?? false,
        latestSnapshot: flags.latestSnapshot ?? false,
        copyTo: flags.copyTo ?? [],
        ...(flags.vzdump
          ? {
              vzdump: {
                mode: flags.mode ?? 'snapshot',
                ...(flags.storage ? { storage: flags.storage } : {}),
                ...(prune ? { prune } : {}),
              },
            }
          : {}),
        log,
      };
      const r = await takeBackup(conn, opts);
      const vzFailed = r.manifest.vzdump.filter((v) => !v.ok);
      const copyFailed = r.copies.filter((c) => !c.ok);
      if (g.output !== 'table') {
        await printDocument(g, { dir: r.dir, manifest: r.manifest, pruned: r.pruned, copies: r.copies });
      } else {
        const m = r.manifest;
        out(`backup of ${m.cluster} (${m.datastore}, from ${m.source.node}) written to ${r.dir}\n`);
        for (const f of m.files) out(`  ${f.path}  ${f.size} bytes  sha256 ${f.sha256}\n`);
        for (const v of m.vzdump)
          out(`  vzdump ${v.node} (${v.host}/${v.vmid}): ${v.ok ? `OK ${v.archive ?? ''}`.trimEnd() : `FAILED: ${v.message}`}\n`);
        for (const c of r.copies)
          out(`  copy to ${c.destination}: ${c.ok ? `OK, checksums match (${c.target})` : `FAILED: ${c.message}`}\n`);
        for (const p of r.pruned) out(`removed old backup ${p}\n`);
        for (const c of r.copies) for (const p of c.pruned) out(`removed old copy ${p}\n`);
      }
      return vzFailed.length > 0 || copyFailed.length > 0 ? 1 : 0;
    });
  } catch (e) {
    // A run that could not reach the cluster is a failed run too: status and metrics must see it.
    if (!reached) {
      const { recordRun } = await import('../../backup/store.js');
      recordRun(root, inv.cluster, { at: started, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
    throw e;
  }
}

type BackupRunOptions = Parameters<typeof import('../../backup/backup.js').runBackup>[2];

/**
 * A backup on an open connection: --offline stops k3s and --vzdump snapshots whole containers,
 * changes the cluster's lease must cover (refused beside an upgrade); a plain online backup
 * only reads (sqlite3 .backup, etcd-snapshot save) and may run beside one. `guard`: the guard's
 * environment. @default from the process environment
 */
export async function takeBackup(conn: ClusterConnection, opts: BackupRunOptions, guard?: GuardEnv) {
  const { runBackup } = await import('../../backup/backup.js');
  const take = () => runBackup(conn.inventory, conn.shells, opts);
  if (!opts.offline && !opts.vzdump) return take();
  const { guarded, guardEnvFor } = await import('../../operation/guard.js');
  const spec = { operation: 'backup', args: [opts.offline ? '--offline' : '--vzdump'], steps: 1, clusterMayNotExist: true };
  return guarded(guard ?? guardEnvFor(conn, process.env), spec, take);
}

export interface RestoreFlags {
  yes?: boolean;
}

export async function restore(g: GlobalOptions, backupDir: string, flags: RestoreFlags): Promise<number> {
  return withCluster(g, (conn) => restoreOn({ conn }, backupDir, flags));
}

/** The command on an open connection `conn`; `guard`: the guard's environment. @default from the process environment */
export async function restoreOn(
  { conn, guard }: { conn: ClusterConnection; guard?: GuardEnv },
  backupDir: string,
  flags: RestoreFlags,
): Promise<number> {
  {
    const { planRestore, runRestore } = await import('../../backup/restore.js');
    const plan = planRestore(conn.inventory, resolve(backupDir));
    const m = plan.manifest;
    out(
      `Restore ${m.cluster} from ${plan.dir}\n  made ${m.createdAt} from ${m.source.node}, ${m.datastore}, k3s ${m.source.k3sVersion ?? 'unknown'}; checksums OK\n`,
    );
    plan.steps.forEach((s, i) => out(`  ${i + 1}. ${s.node}: ${s.text}\n`));
    if (!flags.yes) {
      const { confirm, requireTerminal } = await import('../confirm.js');
      requireTerminal('restore');
      if (!(await confirm('Everything written to the cluster since this backup is lost. Restore? [y/N] '))) {
        out('Nothing changed.\n');
        return 1;
      }
    }
    // Refused while another operation (an upgrade) holds the cluster's lease; a cluster whose API
    // is down (what restores are for) has no lease to hold, and the restore goes on unleased.
    const { guarded, guardEnvFor } = await import('../../operation/guard.js');
    const spec = { operation: 'restore', args: [basename(plan.dir)], steps: plan.steps.length, clusterMayNotExist: true };
    await guarded(guard ?? guardEnvFor(conn, process.env), spec, (gd) =>
      gd.replacingDatastore(() => runRestore(conn.shells, plan, { log: (l) => process.stderr.write(`${l}\n`) })),
    );
    out(`Restored ${m.cluster} from ${plan.dir}.\n`);
    return 0;
  }
}
