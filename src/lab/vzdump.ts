/**
 * `vzdump <vmid>... [--storage local] [--mode snapshot|suspend|stop] [--compress zstd]` on a lab
 * host: one archive per container in `/var/lib/vz/dump` of the host, with vzdump's log on stderr.
 */
import { findContainer } from './k3s-model.js';
import { dirname, mkdirp, writeFile } from './vfs.js';
import { fail, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export async function runVzdump(ctx: ExecContext, host: string, args: string[]): Promise<ExecResult> {
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
        writeFile(h.fs, archive, { content: `vzdump of ${vmid}\n`, mode: 0o644 });
      }
    });
    log.push(`INFO: Finished Backup of VM ${vmid} (00:00:01)`);
  }
  log.push(errors ? 'INFO: Backup job finished with errors' : 'INFO: Backup job finished successfully');
  return { code: errors ? 255 : 0, stdout: '', stderr: `${log.join('\n')}\n` };
}
