/**
 * The restore drill: restores a backup into a scratch k3s server that the caller provides (the
 * CLI makes a throwaway lab) and reports what the restored cluster holds. It is given only the
 * scratch cluster's inventory and shells: it has no way to reach the real cluster.
 */
import type { Inventory } from '../inventory/types.js';
import type { Shell } from '../shell/shell.js';
import { Pct } from '../proxmox/pct.js';
import { KUBECTL } from '../kube/kube.js';
import { RunError, invariant } from '../domain/errors.js';
import { planRestore, runRestore } from './restore.js';
import type { BackupManifest } from './store.js';

export interface Scratch {
  /** What it is, for the report (e.g. "a scratch lab in /tmp/..."). */
  description: string;
  inventory: Inventory;
  shells: ReadonlyMap<string, Shell>;
  close(): Promise<void>;
}

export interface DrillResult {
  scratch: string;
  seconds: number;
  nodes: Array<{ name: string; ready: boolean }>;
  pods: number;
  pdbs: number;
}

interface KubeList {
  items: Array<{ metadata?: { name?: string }; status?: { conditions?: Array<{ type?: string; status?: string }> } }>;
}

/** Restores the backup in `dir` into a scratch cluster `makeScratch` makes, and checks what came back. */
export async function drill(
  dir: string,
  manifest: BackupManifest,
  { makeScratch, log = () => {} }: { makeScratch: (m: BackupManifest) => Promise<Scratch>; log?: (l: string) => void },
): Promise<DrillResult> {
  const t0 = Date.now();
  const scratch = await makeScratch(manifest);
  try {
    log(`drill: restoring into ${scratch.description}`);
    const plan = planRestore(scratch.inventory, dir);
    await runRestore(scratch.shells, plan, { log: (l) => log(`drill: ${l}`), apiTimeoutMs: 120_000, pollMs: 100 });
    const target = plan.target;
    const shell = scratch.shells.get(target.host);
    invariant(shell, `no shell for ${target.host}`);
    const pct = new Pct(shell);
    const get = async (what: string[]): Promise<KubeList> => {
      const r = await pct.exec(target.vmid, [KUBECTL, 'get', ...what, '-o', 'json'], { timeoutMs: 60_000 });
      if (r.code !== 0)
        throw new RunError(`drill: kubectl get ${what.join(' ')} on the restored server failed: ${r.stderr.trim()}`, {
          node: target.name,
          step: 'verify',
        });
      return JSON.parse(r.stdout) as KubeList;
    };
    const nodes = await get(['nodes']);
    const pods = await get(['pods', '-A']);
    const pdbs = await get(['pdb', '-A']);
    return {
      scratch: scratch.description,
      seconds: (Date.now() - t0) / 1000,
      nodes: nodes.items.map((n) => ({
        name: n.metadata?.name ?? '?',
        ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      })),
      pods: pods.items.length,
      pdbs: pdbs.items.length,
    };
  } finally {
    await scratch.close();
  }
}
