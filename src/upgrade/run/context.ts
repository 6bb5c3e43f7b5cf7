/**
 * What the steps of a run work with: `RunDeps`, fixed for the whole run (the cluster's kubectl,
 * pct per host, progress, cancellation, the clock, the read-ahead), and `RunState`, the little
 * that changes as the run goes (who is cordoned, what was uncordoned, where to roll back to).
 */
import type { Inventory } from '../../inventory/types.js';
import type { GateDeps } from './health-gate.js';
import type { Prefetcher } from './prefetch.js';

export interface RunDeps extends GateDeps {
  readonly inventory: Inventory;
  /** The cluster's servers (with several, each health gate checks every one). */
  readonly servers: readonly string[];
  /** upgrade.snapshot and its retention. */
  readonly snapshot: { readonly enabled: boolean; readonly retention: number };
  /** Nodes cordoned before the run by someone else: drained, never uncordoned by this run. */
  readonly staysCordoned: ReadonlySet<string>;
  /** Writes a note in the journal (snapshot taken, drain fallback, rollback). */
  readonly note: (message: string, node?: string) => void;
  readonly readAhead: Prefetcher;
  /** Asks the operator (the canary's confirmation); absent = nobody to ask, which is a no. */
  readonly confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** How a yes was given, for the journal: `confirmed on the terminal`, `confirmed by --yes`. */
  readonly confirmedBy?: string | undefined;
  /** Time between the looks of a soak. @default 10 s */
  readonly soakPollMs?: number | undefined;
}

export class RunState {
  /** Nodes cordoned by pve-k3s (this run or an earlier one) and not uncordoned yet. */
  readonly cordoned: Set<string>;
  /** Nodes this run uncordoned: a read ahead taken before then still saw them cordoned. */
  readonly uncordoned = new Set<string>();
  /** Installed or restarted, and not yet through the health gate: they may run either version. */
  readonly unverified = new Set<string>();
  /** The snapshot taken before a worker's install and the version it ran then: where a failed gate rolls back to. */
  readonly rollbackTo = new Map<string, { snapshot: string; version: string }>();

  constructor(cordonedBefore: Iterable<string> = []) {
    this.cordoned = new Set(cordonedBefore);
  }
}
