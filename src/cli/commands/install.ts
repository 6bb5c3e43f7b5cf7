/** `pve-k3s install` and `pve-k3s join <node>`: containers and k3s from the inventory, idempotently. */
import { confirm, requireTerminal } from '../confirm.js';
import { PlanError, UsageError } from '../../domain/errors.js';
import type { ClusterConnection } from '../../operation/connect.js';
import type { NodeSpec } from '../../inventory/types.js';
import { out, printDocument, withCluster, type GlobalOptions } from '../context.js';

export interface InstallFlags {
  yes?: boolean;
  dryRun?: boolean;
  version?: string;
  channel?: string;
  airgap?: string;
  readyTimeout?: string;
}

export async function install(g: GlobalOptions, flags: InstallFlags): Promise<number> {
  return withCluster(g, (conn) => run(g, flags, { conn, only: undefined }));
}

export async function join(g: GlobalOptions, nodeName: string, flags: InstallFlags): Promise<number> {
  return withCluster(g, (conn) => {
    const node = conn.inventory.nodes.find((n) => n.name === nodeName);
    if (!node) {
      throw new UsageError(`${nodeName} is not a node of ${conn.inventory.file}`, {
        hint: `add it under nodes: (e.g. \`${nodeName}: { vmid: <id>, host: <host>, role: agent }\`), then run pve-k3s join ${nodeName}`,
      });
    }
    return run(g, flags, { conn, only: node });
  });
}

/** `only`: the node `join` adds (undefined: install every node). */
async function run(g: GlobalOptions, flags: InstallFlags, where: { conn: ClusterConnection; only: NodeSpec | undefined }): Promise<number> {
  const { conn, only } = where;
  const started = Date.now();
  let inv = conn.inventory;
  if (flags.readyTimeout !== undefined) {
    const { applyRunFlags } = await import('./upgrade-flags.js');
    inv = await applyRunFlags(inv, { readyTimeout: flags.readyTimeout });
  }
  const nodes = only ? [only] : inv.nodes;
  const { probeInstall } = await import('../../install/probe.js');
  const { planInstall, planIsEmpty, runningServer } = await import('../../install/plan.js');
  const { configYaml } = await import('../../install/settings.js');
  const pinned = flags.version ?? inv.k3s.version;
  const hostShells = new Map([...conn.shells].filter(([h]) => nodes.some((n) => n.host === h)));
  let airgap: import('../../install/airgap.js').AirgapBundle | undefined;
  if (flags.airgap !== undefined) {
    if (pinned === undefined)
      throw new UsageError(
        '--airgap needs the version of the bundle: pass --k3s-version (e.g. --k3s-version v1.33.5+k3s1) or set k3s.version',
        {
          hint: 'the channel server is out of reach in an air gap',
        },
      );
    const { checkAirgap } = await import('../../install/airgap.js');
    airgap = await checkAirgap(flags.airgap, hostShells);
  }
  const facts = await probeInstall(inv, conn.shells, {
    nodes: only ? [...new Set([only, ...inv.nodes.filter((n) => n.role === 'server')])] : nodes,
  });
  const running = runningServer(inv, facts);
  if (only && !running && !(only.role === 'server' && inv.nodes.filter((n) => n.role === 'server').length === 1)) {
    throw new PlanError(`no server of ${inv.cluster} runs k3s yet, so ${only.name} has no cluster to join`, {
      reason: 'no-server',
      hint: 'install the cluster first: pve-k3s install',
    });
  }
  let target: { version: string; source: string } | undefined;
  if (!running) {
    const { resolveTarget } = await import('../../upgrade/plan/target.js');
    const t = await resolveTarget({ version: pinned, channel: flags.channel ?? inv.k3s.channel, channelUrl: conn.channelUrl });
    target = { version: t.target.version.raw, source: t.target.source };
  }
  const yaml = await configYaml(inv);
  const plan = planInstall({ inventory: inv, facts, nodes, target, configYaml: yaml });
  const json = g.output !== 'table';
  const { renderInstallPlan } = await import('../../install/render.js');
  if (planIsEmpty(plan)) {
    if (json) await printDocument(g, { kind: 'InstallResult', ok: true, nothingToDo: true, plan: planDoc(plan) });
    else {
      out(renderInstallPlan(plan, airgap?.dir));
      out(
        only
          ? `\nNothing to do: ${only.name} is configured for k3s and already runs k3s ${plan.nodes[0]?.installedVersion ?? ''}.\n`
          : `\nNothing to do: the ${plan.nodes.length} container(s) of ${plan.cluster} are configured for k3s and every node runs k3s.\n`,
      );
    }
    return 0;
  }
  if (!json) out(renderInstallPlan(plan, airgap?.dir));
  if (flags.dryRun) {
    if (json) await printDocument(g, planDoc(plan));
    else out('Dry run: nothing was changed.\n');
    return 0;
  }
  if (!flags.yes) {
    requireTerminal(only ? 'join' : 'install', 'review the plan above (--dry-run shows it alone) and pass --yes');
    if (
      !(await confirm(
        only ? `Join ${only.name} to ${plan.cluster}? [y/N] ` : `Install k3s ${plan.version} on ${plan.cluster} as shown? [y/N] `,
      ))
    ) {
      out('Nothing was changed.\n');
      return 1;
    }
  }
  const { runInstall, installStepIds } = await import('../../install/run.js');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`  ${line}\n`);
  // Held like every change to the cluster: refused while another operation holds its lease. A
  // cluster with no server running has no API to hold it in yet: the run is journaled from the
  // start and takes the lease once its first server answers.
  const { guarded, guardEnvFor } = await import('../../operation/guard.js');
  const up = running?.inside?.serverActive === true;
  const env = guardEnvFor(conn, process.env, { via: up && running ? running.node.name : plan.firstServer, log });
  if (!json) out('\n');
  const result = await guarded(
    env,
    {
      operation: only ? 'join' : 'install',
      args: only ? [only.name] : [],
      stepIds: installStepIds(plan),
      ...(up ? {} : { clusterMayNotExist: true }),
    },
    (guard) =>
      runInstall({
        inventory: inv,
        shells: conn.shells,
        plan,
        configYaml: yaml,
        log,
        clock: conn.clock,
        signal: guard.signal,
        guard,
        ...(airgap ? { airgap } : {}),
      }),
  );
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (json) {
    await printDocument(g, { kind: 'InstallResult', ok: true, nothingToDo: false, plan: planDoc(plan), ...result });
    return 0;
  }
  out(
    `\n${only ? `Joined ${only.name} to ${plan.cluster}` : `Installed ${plan.cluster}`}: ${result.created.length} container(s) created, ${result.configured.length} reconfigured, k3s ${plan.version} installed on ${result.installed.length} node(s) (${secs}s).\n`,
  );
  const { gatherFacts } = await import('../../upgrade/facts/gather.js');
  const { renderStatus } = await import('./status.js');
  out(renderStatus(await gatherFacts(inv, conn.shells), plan.version));
  if (!only) out(`Next: pve-k3s kubeconfig (merges the cluster into ~/.kube/config as context ${plan.cluster})\n`);
  return 0;
}

function planDoc(p: import('../../install/plan.js').InstallPlan) {
  return {
    cluster: p.cluster,
    version: p.version,
    versionSource: p.versionSource,
    firstServer: p.firstServer,
    clusterInit: p.clusterInit,
    nodes: p.nodes.map((n) => ({
      node: n.node.name,
      role: n.node.role,
      host: n.node.host,
      vmid: n.node.vmid,
      create: n.create,
      changes: n.changes,
      start: n.start,
      restart: n.restart,
      rsharedUnit: n.rsharedUnit,
      installCurl: n.installCurl,
      writeConfig: n.writeConfig,
      installK3s: n.installK3s,
      installedVersion: n.installedVersion ?? null,
    })),
  };
}
