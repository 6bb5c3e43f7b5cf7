/**
 * Read-ahead: work for the next node started while this one upgrades, so it is off the
 * critical path. For the node after: its sessions opened, its unit and env files read and the
 * install script saved in it (during this node's drain or upgrade), and what its drain will move
 * (pods, PDBs, nodes: read once this node is drained). Each read is taken once by the step
 * that needs it; a failed read ahead is simply read again by that step.
 */
import type { Step } from '../../domain/plan.js';
import type { Kube } from '../../kube/kube.js';
import type { Pct } from '../../proxmox/pct.js';
import type { RunResult } from '../../shell/shell.js';
import { DRAIN_CHECK_COMMANDS } from './drain-check.js';
import { readInstallConfig, type ReadConfig } from './node-config.js';

export interface PrefetchOptions {
  kube: Kube;
  pct: (host: string) => Pct;
  signal: AbortSignal | undefined;
  /** Where the install script is downloaded from (saved in the container ahead). */
  installScriptUrl: string;
}

export class Prefetcher {
  readonly #configs = new Map<string, Promise<ReadConfig>>();
  readonly #drainChecks = new Map<string, Promise<RunResult[]>>();

  constructor(private readonly o: PrefetchOptions) {}

  /** Opens the sessions of these nodes and starts reading their install configs. */
  nodes(groups: readonly (readonly Step[] | undefined)[]): void {
    for (const group of groups) {
      const first = group?.[0];
      if (!group || !first) continue;
      this.o.pct(first.host).warm(first.vmid);
      const install = group.find((s) => s.kind === 'install');
      if (!install || this.#configs.has(install.node)) continue;
      const p = readInstallConfig(this.o.pct(install.host), install, { signal: this.o.signal, saveScriptFrom: this.o.installScriptUrl });
      p.catch(() => {}); // read again by the install step itself
      this.#configs.set(install.node, p);
    }
  }

  /** Starts the pre-drain reads of the node whose steps are `group`, if it begins with a drain. */
  drainCheck(group: readonly Step[] | undefined): void {
    const drain = group?.[0]?.kind === 'drain' ? group[0] : undefined;
    if (!drain || this.#drainChecks.has(drain.node)) return;
    const p = this.o.kube.batch(DRAIN_CHECK_COMMANDS, { signal: this.o.signal, timeoutMs: 60_000 });
    p.catch(() => {}); // read again by the drain itself
    this.#drainChecks.set(drain.node, p);
  }

  /** The install config read ahead for `node` (once), or undefined when none was started or it failed. */
  async takeConfig(node: string): Promise<ReadConfig | undefined> {
    return take(this.#configs, node);
  }

  /** The pre-drain reads taken ahead for `node` (once), or undefined. */
  async takeDrainCheck(node: string): Promise<RunResult[] | undefined> {
    return take(this.#drainChecks, node);
  }
}

async function take<T>(map: Map<string, Promise<T>>, key: string): Promise<T | undefined> {
  const p = map.get(key);
  map.delete(key);
  return p?.catch(() => undefined);
}
