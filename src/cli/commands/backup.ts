/** `pve-k3s backup` and `pve-k3s restore <backup>`. File contents are never printed. */
import { resolve } from 'node:path';
import { UsageError } from '../../domain/errors.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';

export interface BackupFlags {
  keep?: string;
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
  const keep = flags.keep === undefined ? undefined : Number(flags.keep);
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1))
    throw new UsageError(`--keep must be a whole number of at least 1, got "${flags.keep}"`);
  if (!flags.vzdump && (flags.mode !== undefined || flags.storage !== undefined))
    throw new UsageError('--mode and --storage apply to --vzdump', { hint: 'add --vzdump' });
  return withCluster(g, async (conn) => {
    const { runBackup } = await import('../../backup/backup.js');
    const root = await rootFor(flags.to, conn.inventory.cluster);
    const log = (l: string) => process.stderr.write(`${l}\n`);
    const r = await runBackup(conn.inventory, conn.shells, {
      root,
      ...(keep !== undefined ? { keep } : {}),
      offline: flags.offline ?? false,
      ...(flags.vzdump ? { vzdump: { mode: flags.mode ?? 'snapshot', ...(flags.storage ? { storage: flags.storage } : {}) } } : {}),
      log,
    });
    const vzFailed = r.manifest.vzdump.filter((v) => !v.ok);
    if (g.output !== 'table') {
      await printDocument(g, { dir: r.dir, manifest: r.manifest, pruned: r.pruned });
    } else {
      const m = r.manifest;
      out(`backup of ${m.cluster} (${m.datastore}, from ${m.source.node}) written to ${r.dir}\n`);
      for (const f of m.files) out(`  ${f.path}  ${f.size} bytes  sha256 ${f.sha256}\n`);
      for (const v of m.vzdump)
        out(`  vzdump ${v.node} (${v.host}/${v.vmid}): ${v.ok ? `OK ${v.archive ?? ''}`.trimEnd() : `FAILED: ${v.message}`}\n`);
      for (const p of r.pruned) out(`removed old backup ${p}\n`);
    }
    return vzFailed.length > 0 ? 1 : 0;
  });
}

export interface RestoreFlags {
  yes?: boolean;
}

export async function restore(g: GlobalOptions, backupDir: string, flags: RestoreFlags): Promise<number> {
  return withCluster(g, async (conn) => {
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
    await runRestore(conn.inventory, conn.shells, plan, { log: (l) => process.stderr.write(`${l}\n`) });
    out(`Restored ${m.cluster} from ${plan.dir}.\n`);
    return 0;
  });
}
