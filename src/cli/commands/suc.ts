/** `pve-k3s suc install|pause|resume`. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../domain/errors.js';
import type { ClusterConnection } from '../../operation/connect.js';
import { out, withCluster, type GlobalOptions } from '../context.js';
import { resume, type ResumeFlags } from './resume.js';

async function kubeOf(conn: ClusterConnection) {
  const { guardEnvFor, kubeFor } = await import('../../operation/guard.js');
  return kubeFor(guardEnvFor(conn, process.env));
}

export async function sucInstall(g: GlobalOptions, flags: { release?: string; url?: string[]; file?: string[] }): Promise<number> {
  const { applyManifests, fetchManifests, PINNED_SUC_RELEASE, releaseUrls } = await import('../../upgrade/suc/control.js');
  if (flags.file && (flags.url || flags.release))
    throw new UsageError('--file cannot go with --url or --release', { hint: 'the files are the release' });
  if (flags.release !== undefined && !/^v\d+\.\d+\.\d+$/.test(flags.release))
    throw new UsageError(`--release must be a SUC release like ${PINNED_SUC_RELEASE}, got "${flags.release}"`);
  let manifests: string;
  if (flags.file) {
    const parts: string[] = [];
    for (const f of flags.file) {
      try {
        parts.push(await readFile(f, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          hint: "pass the release's crd.yaml and system-upgrade-controller.yaml",
        });
      }
    }
    manifests = parts.join('\n---\n');
  } else manifests = await fetchManifests(flags.url ?? releaseUrls(flags.release ?? PINNED_SUC_RELEASE));
  return withCluster(g, async (conn) => {
    const said = await applyManifests(await kubeOf(conn), manifests);
    out(said);
    out(`system-upgrade-controller applied to ${conn.inventory.cluster}; upgrade with: pve-k3s upgrade --engine suc\n`);
    return 0;
  });
}

export async function sucPause(g: GlobalOptions): Promise<number> {
  const { pauseSuc } = await import('../../upgrade/suc/control.js');
  return withCluster(g, async (conn) => {
    const r = await pauseSuc(await kubeOf(conn), conn.inventory.cluster);
    const c = conn.inventory.cluster;
    if (r.plans.length === 0) {
      out(`Nothing to pause: no SUC Plan of pve-k3s is in ${c}.\n`);
      return 0;
    }
    out(`Paused the SUC run of ${c}: Plans ${r.plans.join(', ')} marked paused; no new node starts.\n`);
    out(
      r.optedOut.length > 0 ? `Opted out (their Jobs had not started): ${r.optedOut.join(', ')}.\n` : 'No node was waiting for its Job.\n',
    );
    if (r.inFlight.length > 0) out(`Still finishing (their Jobs run): ${r.inFlight.join(', ')}.\n`);
    out('Continue with `pve-k3s suc resume`, or give up with `pve-k3s suc abandon`.\n');
    return 0;
  });
}

export async function sucResume(g: GlobalOptions, flags: Pick<ResumeFlags, 'yes' | 'forceTakeover'>): Promise<number> {
  const { unpauseSuc } = await import('../../upgrade/suc/control.js');
  await withCluster(g, async (conn) => {
    await unpauseSuc(await kubeOf(conn), conn.inventory.cluster);
    return 0;
  });
  return resume(g, { ...flags, engine: 'suc' });
}
