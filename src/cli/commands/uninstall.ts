/**
 * `pve-k3s uninstall <node>`: drain it, delete it from the cluster (from another server's
 * kubectl), run the k3s uninstall script in its container. The container stays.
 */
import { PlanError, RunError, UsageError } from '../../domain/errors.js';
import { drainArgs } from '../../kube/kube.js';
import { failureReason } from '../../shell/reason.js';
import { out, withCluster, type GlobalOptions } from '../context.js';
import type { ClusterConnection } from '../../operation/connect.js';
import type { GuardEnv } from '../../operation/guard.js';
import { confirm, requireTerminal } from '../confirm.js';

export interface UninstallFlags {
  yes?: boolean;
  dryRun?: boolean;
  force?: boolean;
}

export async function uninstall(g: GlobalOptions, nodeName: string, flags: UninstallFlags): Promise<number> {
  return withCluster(g, (conn) => uninstallOn({ conn }, nodeName, flags));
}

/**
 * The command on an open connection `conn`; `guard`: the guard's environment (another state
 * directory and identity: tests with several operators). @default from the process environment
 */
export async function uninstallOn(
  { conn, guard }: { conn: ClusterConnection; guard?: GuardEnv },
  nodeName: string,
  flags: UninstallFlags,
): Promise<number> {
  {
    const inv = conn.inventory;
    const node = inv.nodes.find((n) => n.name === nodeName);
    if (!node)
      throw new UsageError(`${nodeName} is not a node of ${inv.file}`, { hint: `nodes: ${inv.nodes.map((n) => n.name).join(', ')}` });
    const { probeInstall } = await import('../../install/probe.js');
    const servers = inv.nodes.filter((n) => n.role === 'server');
    const facts = await probeInstall(inv, conn.shells, { nodes: [...new Set([node, ...servers])] });
    const mine = facts.nodes.find((f) => f.node.name === node.name);
    if (!mine?.exists)
      throw new PlanError(`container ${node.vmid} of ${node.name} does not exist on ${node.host}`, {
        reason: 'container-not-running',
        node: node.name,
      });
    if (mine.status !== 'running')
      throw new PlanError(
        `container ${node.vmid} of ${node.name} is ${mine.status ?? 'not running'}: start it first (pct start ${node.vmid} on ${node.host})`,
        { reason: 'container-not-running', node: node.name },
      );
    const service = mine.inside?.serverUnit !== undefined ? 'k3s' : mine.inside?.agentUnit !== undefined ? 'k3s-agent' : undefined;
    if (service === undefined) {
      out(`Nothing to do: k3s is not installed on ${node.name} (CT ${node.vmid} on ${node.host}).\n`);
      return 0;
    }
    const ctl = facts.nodes.find((f) => f.node.role === 'server' && f.node.name !== node.name && f.inside?.serverActive);
    const onlyServer = service === 'k3s' && !ctl;
    if (onlyServer && !flags.force) {
      throw new PlanError(`${node.name} is the only running server of ${inv.cluster}: uninstalling it destroys the cluster and its data`, {
        reason: 'no-server',
        node: node.name,
        hint: `back it up first (pve-k3s backup); pass --force to uninstall it anyway`,
      });
    }
    const script = `/usr/local/bin/${service}-uninstall.sh`;
    const lines = [`Uninstall k3s from ${node.name} (${service === 'k3s' ? 'server' : 'agent'}, CT ${node.vmid} on ${node.host}):`];
    if (ctl) {
      lines.push(`  1. drain it: kubectl ${drainArgs(node.name, inv.drain).join(' ')} (from ${ctl.node.name})`);
      lines.push(`  2. delete node ${node.name} from the cluster`);
    } else {
      lines.push('  1-2. no other server runs: no drain, no node deletion');
    }
    lines.push(`  3. run ${script} in CT ${node.vmid}`);
    lines.push(`The container stays; remove ${node.name} from ${inv.file} if it leaves for good.`);
    out(`${lines.join('\n')}\n`);
    if (flags.dryRun) {
      out('Dry run: nothing was changed.\n');
      return 0;
    }
    if (!flags.yes) {
      requireTerminal('uninstall');
      if (!(await confirm(`Uninstall k3s from ${node.name}? [y/N] `))) {
        out('Nothing was changed.\n');
        return 1;
      }
    }
    // Held like every change to the cluster: refused while another operation holds its lease.
    // With no other server running there may be no API to hold it in; the run goes on unleased.
    const { guarded, guardEnvFor, kubeFor, pctOn } = await import('../../operation/guard.js');
    const env = { ...(guard ?? guardEnvFor(conn, process.env)), ...(ctl ? { via: ctl.node.name } : {}) };
    const spec = {
      operation: 'uninstall',
      args: [node.name],
      // In the journal's `<phase>/<node>/<kind>` form, so a drain in flight is recorded as
      // cordoning its node (run record, abandon) like an upgrade's.
      stepIds: ['drain', 'delete-node', 'uninstall'].map((kind) => `1/${node.name}/${kind}`),
      ...(ctl ? {} : { clusterMayNotExist: true }),
    };
    await guarded(env, spec, async (g) => {
      const step = <R>(kind: string, fn: () => Promise<R>): Promise<R> => g.step(`1/${node.name}/${kind}`, node.name, fn);
      const pct = (h: string) => pctOn(env, h);
      if (ctl) {
        const kube = kubeFor(env);
        const known = await kube.node(node.name, { timeoutMs: 60_000 });
        if (known === undefined) {
          out(`  ${node.name}: not registered in the cluster: no drain, no node deletion\n`);
        } else {
          out(`  ${node.name}: draining\n`);
          // Each check inside its step: a failed command is a failed step in the journal and the run record.
          await step('drain', async () => {
            const d = await kube.drain(node.name, inv.drain, { timeoutMs: (inv.drain.timeoutSeconds + 60) * 1000 });
            if (d.code !== 0)
              throw new RunError(`draining ${node.name} failed: ${failureReason(d)}`, {
                node: node.name,
                hint: `nothing was uninstalled; look at the pods that block it (kubectl get pods -A -o wide), then uncordon it (kubectl uncordon ${node.name}) or run uninstall again`,
                detail: d.stdout + d.stderr,
              });
          });
          out(`  ${node.name}: deleting the node from the cluster\n`);
          await step('delete-node', async () => {
            const del = await kube.kubectl(['delete', 'node', node.name], { timeoutMs: 120_000 });
            if (del.code !== 0)
              throw new RunError(`deleting node ${node.name} failed: ${failureReason(del)}`, {
                node: node.name,
                hint: `it is drained (cordoned); run uninstall again, or kubectl delete node ${node.name}`,
              });
          });
        }
      }
      out(`  ${node.name}: running ${script}\n`);
      await step('uninstall', async () => {
        const u = await pct(node.host).exec(node.vmid, [script], { timeoutMs: 10 * 60_000 });
        if (u.code !== 0)
          throw new RunError(`${script} failed in ${node.name} (exit ${u.code}): ${failureReason(u)}`, {
            node: node.name,
            hint: `run it by hand: pct exec ${node.vmid} -- ${script} (on ${node.host})`,
            detail: u.stdout + u.stderr,
          });
      });
      const left = await pct(node.host).exec(node.vmid, ['test', '-e', `/etc/systemd/system/${service}.service`], { timeoutMs: 60_000 });
      if (left.code === 0)
        throw new RunError(`${script} ran in ${node.name} but the ${service} service is still there`, {
          node: node.name,
          hint: `look at CT ${node.vmid}: systemctl status ${service}`,
        });
    });
    out(`\nUninstalled k3s from ${node.name}. \`pve-k3s join ${node.name}\` installs it again.\n`);
    return 0;
  }
}
