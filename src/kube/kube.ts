/**
 * kubectl on the controller, through `pct exec <controller> -- /usr/local/bin/kubectl ...`.
 * The full path matters: pct exec's PATH lacks /usr/local/bin.
 */
import type { KubeNodeFacts } from '../domain/facts.js';
import type { DrainPolicy } from '../inventory/types.js';
import type { Pct } from '../proxmox/pct.js';
import type { RunOptions, RunResult } from '../shell/shell.js';
import { parseJsonOutput, parseNode, parseNodeList } from './nodes.js';
import { buildBatch, parseBatch } from '../proxmox/batch.js';
import type { KubeError } from '../domain/errors.js';
import { classifyKubectl, kubeError } from './kube-error.js';

export const KUBECTL = '/usr/local/bin/kubectl';

/** The argv of `kubectl drain` for a policy (pure; table-tested). */
export function drainArgs(node: string, p: DrainPolicy): string[] {
  const args = ['drain', node];
  if (p.ignoreDaemonsets) args.push('--ignore-daemonsets');
  if (p.deleteEmptydirData) args.push('--delete-emptydir-data');
  if (p.disableEviction) args.push('--disable-eviction');
  if (p.force) args.push('--force');
  if (p.gracePeriodSeconds !== undefined) args.push(`--grace-period=${p.gracePeriodSeconds}`);
  if (p.skipWaitForDeleteTimeoutSeconds !== undefined) args.push(`--skip-wait-for-delete-timeout=${p.skipWaitForDeleteTimeoutSeconds}`);
  args.push(`--timeout=${p.timeoutSeconds}s`);
  return args;
}

export class Kube {
  constructor(
    readonly pct: Pct,
    readonly controllerVmid: number,
    readonly controllerName: string,
  ) {}

  kubectl(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.pct.exec(this.controllerVmid, [KUBECTL, ...args], opts);
  }

  /**
   * Several kubectl commands in ONE round trip (a framed batch script run by `sh -s` in the
   * controller); each result has its own stdout, stderr and exit status.
   */
  async batch(
    commands: readonly (readonly string[])[],
    opts?: Omit<RunOptions, 'stdin'> & { stopOnFailure?: boolean },
  ): Promise<RunResult[]> {
    const { stopOnFailure, ...run } = opts ?? {};
    const batch = buildBatch(
      commands.map((args) => ({ argv: [KUBECTL, ...args] })),
      { stopOnFailure: stopOnFailure ?? false },
    );
    const r = await this.pct.execScript(this.controllerVmid, batch.script, run);
    const results = parseBatch(r, batch);
    // With stopOnFailure, the commands after a failed one did not run.
    const stoppedAt = stopOnFailure ? results.findIndex((x) => x.code > 0) : -1;
    // The script itself could not run (container stopped, pct error): every command failed with pct's answer.
    return results.map((x, i) =>
      x.code !== -1
        ? x
        : stoppedAt >= 0 && i > stoppedAt
          ? { code: -1, stdout: '', stderr: 'not run: an earlier command of the batch failed' }
          : { code: r.code === 0 ? 1 : r.code, stdout: r.stdout, stderr: r.stderr },
    );
  }

  /**
   * The KubeError for a failed kubectl command run here: kubectl's own words, why (refused,
   * not found, forbidden...), and a hint that names this controller.
   */
  error(args: readonly string[], r: RunResult, opts?: { hint?: string; detail?: string }): KubeError {
    return kubeError(args, r, { controller: this.controllerName, vmid: this.controllerVmid, host: this.pct.host, ...opts });
  }

  /** Runs kubectl and throws its KubeError when it fails. */
  async check(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const r = await this.kubectl(args, opts);
    if (r.code !== 0) throw this.error(args, r);
    return r;
  }

  /** Every node; throws KubeError when kubectl fails. */
  async nodes(opts?: RunOptions): Promise<Map<string, KubeNodeFacts>> {
    const r = await this.check(['get', 'nodes', '-o', 'json'], opts);
    return parseNodeList(r.stdout);
  }

  /** One node, or undefined when the API answers that it does not exist; throws KubeError when kubectl fails. */
  async node(name: string, opts?: RunOptions): Promise<KubeNodeFacts | undefined> {
    const args = ['get', 'node', name, '-o', 'json'];
    const r = await this.kubectl(args, opts);
    if (r.code !== 0) {
      if (classifyKubectl(r.code, r.stderr, r.stdout).reason === 'not-found') return undefined;
      throw this.error(args, r);
    }
    const parsed = parseNode(parseJsonOutput(r.stdout));
    return parsed?.[1];
  }

  drain(node: string, policy: DrainPolicy, opts?: RunOptions): Promise<RunResult> {
    return this.kubectl(drainArgs(node, policy), opts);
  }

  uncordon(node: string, opts?: RunOptions): Promise<RunResult> {
    return this.kubectl(['uncordon', node], opts);
  }

  /** Sets `annotation` on `node`, or removes it when its value is undefined. */
  annotate(node: string, annotation: { key: string; value: string | undefined }, opts?: RunOptions): Promise<RunResult> {
    const { key, value } = annotation;
    const kv = value === undefined ? `${key}-` : `${key}=${value}`;
    return this.kubectl(['annotate', 'node', node, kv, '--overwrite'], opts);
  }
}
