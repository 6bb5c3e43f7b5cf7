/**
 * The install plan (pure): for each node, what its container needs (create, pct set, lxc.*
 * lines, start or restart, fixes inside) and whether k3s must be installed; which server comes
 * first; the version. Problems pve-k3s will not fix are refused here, before any change.
 */
import { PlanError } from '../domain/errors.js';
import { parseExecStart } from '../k3s/install-config.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { ConfEdit } from '../proxmox/lxc-conf.js';
import { containerNeeds } from './lxc.js';
import { containerFor } from './settings.js';
import type { InsideFacts, InstallFacts, NodeFacts } from './probe.js';

export interface NodeInstallPlan {
  node: NodeSpec;
  /** `pct create` it (it does not exist). */
  create: boolean;
  pctSet: string[];
  confEdit: ConfEdit | undefined;
  /** Container changes, one line each (for the plan). */
  changes: string[];
  /** Start it (stopped, or just created). */
  start: boolean;
  /** Restart it (running, and its configuration changed or /dev/kmsg is missing). */
  restart: boolean;
  installCurl: boolean;
  rsharedUnit: boolean;
  /** Write /etc/rancher/k3s/config.yaml before installing k3s. */
  writeConfig: boolean;
  /** Install k3s on it. */
  installK3s: boolean;
  /** Installed version when k3s is already there. */
  installedVersion: string | undefined;
  /** The first server: creates the cluster (or already runs it). */
  first: boolean;
  /** config.yaml in the node differs from the inventory (installed nodes are not reconfigured). */
  configDiffers: boolean;
}

export interface InstallPlan {
  cluster: string;
  version: string;
  /** Where the version comes from: `channel stable`, `pinned`, `the cluster (k3s-ctrl-1)`. */
  versionSource: string;
  firstServer: string;
  /** The first server is new and other servers will join it: `--cluster-init`. */
  clusterInit: boolean;
  nodes: NodeInstallPlan[];
  /** Hosts whose kernel modules were checked (those of nodes k3s is installed on). */
  hostsChecked: string[];
  /** What could not be checked (a host's modules unreadable): shown, not refused. */
  warnings: string[];
}

export interface PlanInputs {
  inventory: Inventory;
  facts: InstallFacts;
  /** The nodes to act on (all for install, one for join). */
  nodes: readonly NodeSpec[];
  /** The version to install when no server runs k3s yet. */
  target: { version: string; source: string } | undefined;
  configYaml: string | undefined;
}

/** The version when the cluster already runs: a joining node gets its first server's. */
export function runningServer(inv: Inventory, facts: InstallFacts): NodeFacts | undefined {
  const servers = facts.nodes.filter(
    (f) => f.node.role === 'server' && f.inside?.serverUnit !== undefined && f.inside.version !== undefined,
  );
  return (
    servers.find((f) => f.node.name === inv.controller && f.inside?.serverActive) ??
    servers.find((f) => f.inside?.serverActive) ??
    servers[0]
  );
}

export function planInstall(p: PlanInputs): InstallPlan {
  const { inventory: inv, facts } = p;
  const running = runningServer(inv, facts);
  const servers = inv.nodes.filter((n) => n.role === 'server');
  const firstServer = running?.node.name ?? inv.controller;
  const firstFacts = facts.nodes.find((f) => f.node.name === firstServer);
  const version = running?.inside?.version ?? p.target?.version;
  if (version === undefined) throw new TypeError('planInstall: no version (target not resolved)');
  const versionSource = running ? `the cluster (${running.node.name})` : (p.target?.source ?? 'pinned');
  const nodes: NodeInstallPlan[] = [];
  for (const node of p.nodes) {
    const f = facts.nodes.find((x) => x.node.name === node.name);
    if (!f) throw new TypeError(`no facts for ${node.name}`);
    nodes.push(planNode(inv, f, { first: node.name === firstServer, configYaml: p.configYaml }));
  }
  // Kernel modules matter only on the hosts of the nodes k3s will be installed on.
  const installHosts = new Set(nodes.filter((n) => n.installK3s).map((n) => n.node.host));
  const checked = facts.hosts.filter((h) => installHosts.has(h.name));
  const missing = checked.filter((h) => h.missingModules.length > 0);
  if (missing.length > 0) {
    const h = missing[0]!;
    throw new PlanError(`host ${h.name} lacks kernel modules k3s needs: ${h.missingModules.join(', ')}`, {
      reason: 'invalid-target',
      hint: `on ${h.name}: modprobe -a ${h.missingModules.join(' ')} && printf '%s\\n' ${h.missingModules.join(' ')} > /etc/modules-load.d/k3s.conf (or pve-k3s doctor --fix); then run install again`,
    });
  }
  const warnings = checked
    .filter((h) => h.modulesUnknown !== undefined)
    .map(
      (h) =>
        `host ${h.name}: cannot tell whether the kernel modules overlay and br_netfilter are loaded (${h.modulesUnknown}); k3s fails to start without them`,
    );
  const firstNew = firstFacts?.inside?.serverUnit === undefined;
  const joiningServers = nodes.filter((n) => n.installK3s && n.node.role === 'server' && !n.first);
  if (!firstNew && joiningServers.length > 0 && running?.inside?.serverUnit !== undefined) {
    const exec = parseExecStart(running.inside.serverUnit);
    const etcd = exec?.args.some((a) => a === '--cluster-init' || a === '--server' || a.startsWith('--server=')) ?? false;
    if (!etcd) {
      throw new PlanError(
        `${running.node.name} runs k3s with its SQLite datastore (installed without --cluster-init): servers ${joiningServers.map((n) => n.node.name).join(', ')} cannot join it`,
        {
          reason: 'invalid-target',
          node: running.node.name,
          hint: `convert it to embedded etcd first (restart it with --cluster-init, see the k3s docs on migrating from SQLite), or make the other servers agents in ${inv.file}`,
        },
      );
    }
  }
  return {
    cluster: inv.cluster,
    version,
    versionSource,
    firstServer,
    clusterInit: firstNew && servers.length > 1,
    nodes,
    hostsChecked: checked.filter((h) => h.modulesUnknown === undefined).map((h) => h.name),
    warnings,
  };
}

function planNode(
  inv: Inventory,
  f: NodeFacts,
  { first, configYaml }: { first: boolean; configYaml: string | undefined },
): NodeInstallPlan {
  const { node } = f;
  const base: NodeInstallPlan = {
    node,
    create: false,
    pctSet: [],
    confEdit: undefined,
    changes: [],
    start: false,
    restart: false,
    installCurl: false,
    rsharedUnit: false,
    writeConfig: false,
    installK3s: true,
    installedVersion: undefined,
    first,
    configDiffers: false,
  };
  if (f.foundOn !== undefined) {
    throw new PlanError(`container ${node.vmid} of ${node.name} is on ${f.foundOn}, not on ${node.host}`, {
      reason: 'invalid-target',
      node: node.name,
      hint: `set nodes.${node.name}.host to ${f.foundOn} in ${inv.file}`,
    });
  }
  if (!f.exists) {
    const s = containerFor(inv, node);
    if (s.template === undefined) {
      throw new PlanError(
        `container ${node.vmid} of ${node.name} does not exist on ${node.host}, and the inventory has no container template to create it from`,
        {
          reason: 'invalid-target',
          node: node.name,
          hint: `set container.template (e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst; see pveam list local on ${node.host}) in ${inv.file}, or create the container`,
        },
      );
    }
    return {
      ...base,
      create: true,
      start: true,
      rsharedUnit: true,
      writeConfig: configYaml !== undefined,
      changes: [
        `create from ${s.template} (privileged, nesting, ${s.cores} cores, ${s.memoryMb} MiB, ${s.diskSizeGb} GiB on ${s.storage}, net0 ${s.network})`,
        'lxc.* lines k3s needs',
      ],
    };
  }
  if (f.conf === undefined) {
    throw new PlanError(`cannot read /etc/pve/lxc/${node.vmid}.conf on ${node.host}`, {
      reason: 'invalid-target',
      node: node.name,
      hint: `check the container: pct config ${node.vmid} on ${node.host}`,
    });
  }
  const needs = containerNeeds(f.conf, node.vmid);
  if (needs.blocker) {
    throw new PlanError(`${node.name}: ${needs.blocker}`, {
      reason: 'invalid-target',
      node: node.name,
      hint: `recreate it privileged (restore a backup with pct restore ${node.vmid} <archive> --unprivileged 0, or destroy it and let pve-k3s install create it)`,
    });
  }
  const running = f.status === 'running';
  const inside = f.inside;
  const confChanged = needs.pctSet.length > 0 || needs.confEdit !== undefined;
  const plan: NodeInstallPlan = { ...base, pctSet: needs.pctSet, confEdit: needs.confEdit, changes: [...needs.changes] };
  if (!running) {
    plan.start = true;
    plan.changes.push('start the container');
  } else if (confChanged || inside?.kmsg === false) {
    plan.restart = true;
    if (!confChanged) plan.changes.push('/dev/kmsg is missing');
  }
  const serverUnit = inside?.serverUnit;
  const agentUnit = inside?.agentUnit;
  if (serverUnit !== undefined && agentUnit !== undefined) {
    throw new PlanError(`${node.name} has both a k3s (server) and a k3s-agent service: a worker was turned into a server`, {
      reason: 'invalid-target',
      node: node.name,
      hint: `repair it first (pve-k3s doctor ${node.name})`,
    });
  }
  const other = node.role === 'server' ? agentUnit : serverUnit;
  if (other !== undefined) {
    throw new PlanError(
      `${node.name} is ${node.role === 'server' ? 'a server' : 'an agent'} in the inventory but runs a k3s ${node.role === 'server' ? 'agent' : 'server'}`,
      {
        reason: 'invalid-target',
        node: node.name,
        hint: `fix nodes.${node.name}.role in ${inv.file}, or uninstall k3s from it (pve-k3s uninstall ${node.name})`,
      },
    );
  }
  const mine = node.role === 'server' ? serverUnit : agentUnit;
  plan.installK3s = mine === undefined;
  plan.installedVersion = mine !== undefined ? inside?.version : undefined;
  // Unknown until it runs (stopped): assume the fixes inside are needed; they are checked again then.
  plan.installCurl = inside ? !inside.curl && plan.installK3s : false;
  plan.rsharedUnit = inside ? needsRsharedUnit(inside, plan.installK3s) : true;
  if (configYaml !== undefined) {
    const same = inside?.configYaml === configYaml;
    plan.writeConfig = plan.installK3s && !same;
    plan.configDiffers = !plan.installK3s && inside !== undefined && !same;
  }
  return plan;
}

/**
 * k3s needs / rshared at every boot: pve-k3s adds its unit where it installs k3s, and where /
 * is not shared now; a node that already runs k3s with / shared keeps whatever does it.
 */
export function needsRsharedUnit(inside: InsideFacts, installingK3s: boolean): boolean {
  return !inside.rsharedUnit && (installingK3s || inside.propagation !== 'shared');
}

/** True when the plan changes nothing. */
export function planIsEmpty(p: InstallPlan): boolean {
  return p.nodes.every(
    (n) =>
      !n.create && n.changes.length === 0 && !n.start && !n.restart && !n.installCurl && !n.rsharedUnit && !n.writeConfig && !n.installK3s,
  );
}
