/**
 * gatherFacts(): reads the cluster's state with ONE round trip per Proxmox host (a batched
 * script: `pct list`, then `k3s --version` in each of that host's nodes, and on the
 * controller's host `kubectl get nodes -o json`), all hosts in parallel.
 */
import type { ClusterFacts, ContainerState, KubeNodeFacts, NodeFacts } from '../../domain/facts.js';
import { parseK3sVersionOutput } from '../../domain/version.js';
import type { Inventory, NodeSpec } from '../../inventory/types.js';
import { buildBatch, buildNestedBatch, nestedResults, parseBatch, type BatchCommand } from '../../proxmox/batch.js';
import { parsePctList, type PctListEntry } from '../../proxmox/pct.js';
import type { RunResult, Shell } from '../../shell/shell.js';
import { failureReason } from '../../shell/reason.js';
import { KUBECTL } from '../../kube/kube.js';
import { parseNodeList } from '../../kube/nodes.js';
import { PveK3sError, invariant } from '../../domain/errors.js';
import { locateMoved } from './locate.js';
import { firstLine } from '../../domain/text.js';

export const K3S = '/usr/local/bin/k3s';

export interface GatherOptions {
  signal?: AbortSignal;
  /** Per host round trip. @default 120000 */
  timeoutMs?: number;
  /** How many `pct exec` a host runs at once during the probe, at least (more where its cores allow). @default 8 */
  parallel?: number;
  /**
   * More kubectl reads for the controller, in the same request and the same `pct exec` as the
   * probe's `kubectl get nodes` (a framed `sh -c` in the controller; status and upgrade read the
   * cluster's lease this way: one request per host, one pct start for the controller's reads).
   * `answer` gets their results in order, each as that kubectl run alone gives it, or
   * undefined when the controller's host could not be probed (its caller then reads them itself).
   */
  controllerReads?: ControllerReads;
}

export interface ControllerReads {
  /** kubectl arguments (without the kubectl path), one list per command. */
  commands: readonly (readonly string[])[];
  answer(results: RunResult[] | undefined): void;
}

interface HostProbe {
  host: string;
  list: PctListEntry[] | undefined;
  listError: string | undefined;
  versions: Map<string, { installed: NodeFacts['installed']; error: string | undefined }>;
  kube: { nodes: Map<string, KubeNodeFacts> | undefined; error: string | undefined } | undefined;
  error: string | undefined;
}

/**
 * Reads what the planner needs: each container's state, its installed k3s and the cluster's
 * view of every node, with one batched round trip per Proxmox host (all hosts at once). A host
 * or kubectl that cannot be read is recorded in the facts (`hostErrors`, `kubeError`), never
 * thrown: the planner turns it into a PlanError naming the host or node.
 * @param shells one Shell per Proxmox host of the inventory, by host name (a Session's `shells`)
 */
export async function gatherFacts(inv: Inventory, shells: ReadonlyMap<string, Shell>, opts: GatherOptions = {}): Promise<ClusterFacts> {
  const controller = inv.nodes.find((n) => n.name === inv.controller);
  const hostNames = [...new Set(inv.nodes.map((n) => n.host))];
  const probes = await Promise.all(
    hostNames.map((h) => {
      const shell = shells.get(h);
      invariant(shell, `no shell for host ${h}`);
      return probeHost(
        shell,
        { nodes: inv.nodes.filter((n) => n.host === h), controller: controller?.host === h ? controller : undefined },
        opts,
      );
    }),
  );
  const byHost = new Map(probes.map((p) => [p.host, p]));
  // A container missing from its host may have migrated: find it (extra round trips only then).
  const moved = await locateMoved(inv, shells, {
    ...opts,
    byHost,
    probe: (shell, nodes, controller) => probeHost(shell, { nodes, controller }, opts),
  });
  const movedCtrl = controller ? moved.probes.get(controller.name)?.kube : undefined;
  const kubeProbe = movedCtrl ?? probes.find((p) => p.kube !== undefined)?.kube;
  const hostErrors: Record<string, string> = {};
  for (const p of probes) if (p.error !== undefined) hostErrors[p.host] = p.error;

  const nodes: NodeFacts[] = inv.nodes.map((spec0) => {
    const p = moved.probes.get(spec0.name) ?? byHost.get(spec0.host)!;
    const spec = { ...spec0, host: p.host };
    const entry = p.list?.find((e) => e.vmid === spec.vmid);
    const container: ContainerState = p.list === undefined ? 'unknown' : entry === undefined ? 'missing' : asState(entry.status);
    const v = p.versions.get(spec.name);
    return {
      name: spec.name,
      vmid: spec.vmid,
      host: spec.host,
      role: spec.role,
      container,
      lock: entry?.lock,
      installed: container === 'running' ? v?.installed : undefined,
      installedError: container === 'running' ? v?.error : (p.error ?? p.listError),
      kube: kubeProbe?.nodes?.get(spec.name),
    };
  });
  const controllerHostError = controller ? hostErrors[controller.host] : undefined;
  return {
    cluster: inv.cluster,
    controller: inv.controller,
    nodes,
    kubeError: kubeProbe?.error ?? (controllerHostError !== undefined ? `host ${controller?.host} unreachable` : undefined),
    hostErrors,
    roundTrips: hostNames.length + moved.roundTrips,
    ...(moved.relocations.length > 0 ? { relocated: moved.relocations } : {}),
  };
}

function asState(status: string): ContainerState {
  return status === 'running' || status === 'stopped' ? status : 'unknown';
}

/** One host's probe: its containers, the k3s version in each of `nodes`, and the cluster's nodes when `controller` is there. */
async function probeHost(
  shell: Shell,
  { nodes, controller }: { nodes: NodeSpec[]; controller: NodeSpec | undefined },
  opts: GatherOptions,
): Promise<HostProbe> {
  const commands: BatchCommand[] = [{ argv: ['pct', 'list'] }];
  for (const n of nodes) commands.push({ argv: ['pct', 'exec', String(n.vmid), '--', K3S, '--version'] });
  const reads = controller ? opts.controllerReads : undefined;
  const nodesArgv = [KUBECTL, 'get', 'nodes', '-o', 'json'];
  // With reads, the controller's kubectl runs go in ONE `pct exec` (one pct start: a Perl start
  // and lxc-attach on a real host), framed by the container's sh: each keeps its own answer.
  const inner =
    controller && reads
      ? buildNestedBatch(
          ['pct', 'exec', String(controller.vmid), '--'],
          [nodesArgv, ...reads.commands.map((a) => [KUBECTL, ...a])].map((argv) => ({ argv })),
        )
      : undefined;
  if (controller) commands.push({ argv: inner ? inner.argv : ['pct', 'exec', String(controller.vmid), '--', ...nodesArgv] });
  const batch = buildBatch(commands, { parallel: opts.parallel ?? 8, widen: true });
  const probe: HostProbe = {
    host: shell.host,
    list: undefined,
    listError: undefined,
    versions: new Map(),
    kube: undefined,
    error: undefined,
  };
  let out: RunResult;
  try {
    const r = await shell.run(['sh', '-s'], { stdin: batch.script, timeoutMs: opts.timeoutMs ?? 120_000, signal: opts.signal });
    out = r;
    if (r.code !== 0 && !r.stdout.includes(batch.nonce)) {
      probe.error = `the probe script failed (exit ${r.code}): ${failureReason(r, { singleLine: true })}`;
      if (controller) probe.kube = { nodes: undefined, error: probe.error };
      reads?.answer(undefined);
      return probe;
    }
  } catch (err) {
    reads?.answer(undefined);
    if (opts.signal?.aborted) throw err;
    probe.error = err instanceof PveK3sError || err instanceof Error ? err.message : String(err);
    if (controller) probe.kube = { nodes: undefined, error: probe.error };
    return probe;
  }
  const results = parseBatch(out, batch);
  const [list, ...rest] = results;
  if (list && list.code === 0) probe.list = parsePctList(list.stdout);
  else probe.listError = `pct list failed: ${list ? failureReason(list, { singleLine: true }) : 'no answer'}`;
  nodes.forEach((n, i) => {
    const r = rest[i];
    if (!r) return;
    if (r.code === 0) {
      const v = parseK3sVersionOutput(r.stdout);
      probe.versions.set(
        n.name,
        v
          ? { installed: v, error: undefined }
          : { installed: undefined, error: `unexpected \`k3s --version\` output: ${firstLine(r.stdout).slice(0, 200) || '(no output)'}` },
      );
    } else if (r.code === 127) {
      probe.versions.set(n.name, { installed: null, error: undefined });
    } else {
      probe.versions.set(n.name, { installed: undefined, error: `exit ${r.code}: ${failureReason(r, { singleLine: true })}` });
    }
  });
  if (controller) {
    const outer = rest[nodes.length];
    const [r, ...more] = outer && inner ? nestedResults(outer, inner) : [outer];
    reads?.answer(reads.commands.map((_c, i) => more[i] ?? { code: -1, stdout: '', stderr: 'no answer' }));
    if (!r || r.code !== 0)
      probe.kube = {
        nodes: undefined,
        error: `kubectl get nodes failed (exit ${r?.code}): ${r ? failureReason(r, { singleLine: true }) : 'no answer'}`,
      };
    else {
      try {
        probe.kube = { nodes: parseNodeList(r.stdout), error: undefined };
      } catch (err) {
        probe.kube = { nodes: undefined, error: (err as Error).message };
      }
    }
  }
  return probe;
}
