/**
 * Carries out an install plan: containers first (create, pct set, lxc.* lines above the first
 * [snapshot] section, start or restart, fixes inside), then k3s: the first server, its token
 * read over `pct exec` stdout (never printed, never in argv), the other servers one at a
 * time, then the agents with K3S_URL and the token on stdin; each node waits for its health
 * gate before the next. It stops at the first failure: the nodes after it are untouched.
 */
import { RunError } from '../domain/errors.js';
import type { Step } from '../domain/plan.js';
import { Kube } from '../kube/kube.js';
import { failureReason } from '../shell/reason.js';
import { parseJsonOutput } from '../kube/nodes.js';
import { Pct } from '../proxmox/pct.js';
import { buildInstallScript, redact, type NodeInstallConfig } from '../k3s/install-config.js';
import { DEFAULT_POLL, gateFailedMessage, serviceLogCommand, waitHealthy as waitHealthyGate } from '../upgrade/run/health-gate.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Shell, RunResult } from '../shell/shell.js';
import { applyConfEdit, confReady, containerNeeds } from './lxc.js';
import { needsRsharedUnit, type InstallPlan, type NodeInstallPlan } from './plan.js';
import { CONFIG_YAML, probeInside, RSHARED_UNIT, type InsideFacts } from './probe.js';
import { containerFor, installSettings, pctCreateArgv, staticIp } from './settings.js';
import type { AirgapBundle } from './airgap.js';
import { pushAirgap } from './airgap.js';

export const TOKEN_PATH = '/var/lib/rancher/k3s/server/token';

export interface InstallRunOptions {
  inventory: Inventory;
  shells: ReadonlyMap<string, Shell>;
  plan: InstallPlan;
  configYaml: string | undefined;
  log: (line: string) => void;
  signal?: AbortSignal;
  airgap?: AirgapBundle;
  /** Poll bounds of the health gate, ms. @default {minMs: 200, maxMs: 1000} */
  poll?: { minMs: number; maxMs: number };
  /** Time and waiting of the health gate. @default the system clock */
  clock?: Clock;
  /**
   * The guarded operation the run belongs to (src/operation/guard.ts): each node's container
   * and k3s are one journaled step each, and the cluster lease is taken once the first server
   * answers (a bare cluster has no API to hold it in before).
   */
  guard?: InstallGuard;
}

/** What runInstall needs of a guarded operation. */
export interface InstallGuard {
  step<R>(id: string, node: string, fn: () => Promise<R>): Promise<R>;
  clusterUp(): Promise<void>;
}

/** The journal's step ids of an install plan, in the order the run goes. */
export function installStepIds(plan: InstallPlan): string[] {
  const k3s = [
    ...plan.nodes.filter((n) => n.first),
    ...plan.nodes.filter((n) => !n.first && n.node.role === 'server'),
    ...plan.nodes.filter((n) => n.node.role === 'agent'),
  ].filter((n) => n.installK3s);
  return [...plan.nodes.map((n) => `install/${n.node.name}/container`), ...k3s.map((n) => `install/${n.node.name}/k3s`)];
}

export interface InstallRunResult {
  /** Nodes whose k3s this run installed. */
  installed: string[];
  /** Containers this run created. */
  created: string[];
  /** Containers it reconfigured (pct set, conf, start, restart, inside). */
  configured: string[];
}

const RSHARED_UNIT_TEXT = [
  '[Unit]',
  'Description=Make / rshared for k3s (pve-k3s)',
  'DefaultDependencies=no',
  'After=local-fs.target',
  'Before=k3s.service k3s-agent.service',
  '',
  '[Service]',
  'Type=oneshot',
  'ExecStart=/bin/mount --make-rshared /',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
];

export async function runInstall(o: InstallRunOptions): Promise<InstallRunResult> {
  const result: InstallRunResult = { installed: [], created: [], configured: [] };
  const pct = (host: string) => pctFor(o, host);
  const step = <R>(id: string, node: string, fn: () => Promise<R>): Promise<R> => (o.guard ? o.guard.step(id, node, fn) : fn());
  // 1. Containers.
  for (const n of o.plan.nodes) {
    const touched = await step(`install/${n.node.name}/container`, n.node.name, () => prepareContainer(o, n, pct(n.node.host)));
    if (n.create) result.created.push(n.node.name);
    else if (touched) result.configured.push(n.node.name);
  }
  // 2. k3s: first server, other servers, agents.
  const first = o.inventory.nodes.find((n) => n.name === o.plan.firstServer);
  if (!first) throw new TypeError(`first server ${o.plan.firstServer} not in the inventory`);
  const firstPct = pct(first.host);
  const kube = new Kube(firstPct, first.vmid, first.name);
  const members = new Set(
    o.inventory.nodes
      .filter((n) => n.name !== first.name && !o.plan.nodes.some((p) => p.node.name === n.name && p.installK3s))
      .map((n) => n.name),
  );
  const ordered = [
    ...o.plan.nodes.filter((n) => n.first),
    ...o.plan.nodes.filter((n) => !n.first && n.node.role === 'server'),
    ...o.plan.nodes.filter((n) => n.node.role === 'agent'),
  ];
  let token: string | undefined;
  let url: string | undefined;
  const install = settingsArgs(o.inventory);
  for (const n of ordered) {
    const p = pct(n.node.host);
    const inside = await probeInside(p, n.node.vmid, o.signal);
    const mine = n.node.role === 'server' ? inside.serverUnit : inside.agentUnit;
    if (mine !== undefined) {
      members.add(n.node.name);
      continue;
    }
    await fixInside(o, n, { pct: p, inside, beforeK3s: true });
    let config: NodeInstallConfig;
    if (n.first) {
      config = { role: 'server', args: [...(o.plan.clusterInit ? ['--cluster-init'] : []), ...install.server], env: {} };
    } else {
      token ??= await readToken(firstPct, first);
      url ??= await serverUrl(o, first, kube);
      config =
        n.node.role === 'server'
          ? { role: 'server', args: ['--server', url, ...install.server], env: { K3S_TOKEN: token } }
          : { role: 'agent', args: install.agent, env: { K3S_URL: url, K3S_TOKEN: token } };
    }
    const how = n.first
      ? o.plan.clusterInit
        ? 'first server, --cluster-init'
        : 'first server'
      : n.node.role === 'server'
        ? `joining ${url}`
        : `agent of ${url}`;
    await step(`install/${n.node.name}/k3s`, n.node.name, async () => {
      o.log(`${n.node.name}: installing k3s ${o.plan.version} (${how})`);
      await installK3s(o, n.node, { pct: p, config, token });
      members.add(n.node.name);
      await waitHealthy(o, n.node, { kube, members: [...members, first.name] });
    });
    o.log(`${n.node.name}: Ready`);
    // The cluster now has an API: the run holds its lease from here on (a no-op when it already does).
    if (n.first) await o.guard?.clusterUp();
    result.installed.push(n.node.name);
  }
  return result;
}

function pctFor(o: InstallRunOptions, host: string): Pct {
  const s = o.shells.get(host);
  if (!s) throw new TypeError(`no shell for host ${host}`);
  return new Pct(s);
}

function settingsArgs(inv: Inventory): { server: string[]; agent: string[] } {
  const s = installSettings(inv);
  return { server: [...s.serverArgs], agent: [...s.agentArgs] };
}

/** `result`: the failed command, or the reason; `secrets`: words redacted from what is said. */
function fail(
  node: NodeSpec,
  what: string,
  { result: r, hint, secrets = [] }: { result: RunResult | string; hint: string; secrets?: string[] },
): never {
  const line = typeof r === 'string' ? r : failureReason(r);
  throw new RunError(redact(`${node.name}: ${what}: ${line}`, secrets), {
    node: node.name,
    hint,
    detail: typeof r === 'string' ? undefined : redact(r.stdout + r.stderr, secrets),
  });
}

const continueHint = (n: NodeSpec) =>
  `nodes before ${n.name} are done and the ones after it were not touched; fix the cause and run pve-k3s install again (it continues where it stopped)`;

/** Creates or reconfigures the container; true when it changed anything. */
async function prepareContainer(o: InstallRunOptions, n: NodeInstallPlan, p: Pct): Promise<boolean> {
  const node = n.node;
  const host = (argv: string[], stdin?: string) =>
    p.shell.run(argv, { timeoutMs: 10 * 60_000, ...(stdin !== undefined ? { stdin } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  const file = `/etc/pve/lxc/${node.vmid}.conf`;
  let changed = false;
  if (n.create) {
    o.log(`${node.name}: creating container ${node.vmid} on ${node.host}`);
    const r = await host(pctCreateArgv(node, containerFor(o.inventory, node)));
    if (r.code !== 0)
      fail(node, `pct create ${node.vmid} failed`, {
        result: r,
        hint: `check the template, storage and network in the inventory's container settings; ${continueHint(node)}`,
      });
    changed = true;
  }
  const read = await host(['cat', file]);
  if (read.code !== 0) fail(node, `cannot read ${file}`, { result: read, hint: `check the container on ${node.host}` });
  const needs = containerNeeds(read.stdout, node.vmid);
  if (needs.pctSet.length > 0) {
    o.log(`${node.name}: pct set ${node.vmid} ${needs.pctSet.join(' ')}`);
    const r = await host(['pct', 'set', String(node.vmid), ...needs.pctSet]);
    if (r.code !== 0) fail(node, `pct set ${node.vmid} failed`, { result: r, hint: continueHint(node) });
    changed = true;
  }
  if (needs.confEdit) {
    o.log(`${node.name}: adding the lxc.* lines k3s needs to ${file}${/^\[/m.test(read.stdout) ? ' (above its [snapshot] sections)' : ''}`);
    // Re-read: pct set rewrote the file.
    const cur = needs.pctSet.length > 0 ? await host(['cat', file]) : read;
    if (cur.code !== 0) fail(node, `cannot read ${file}`, { result: cur, hint: continueHint(node) });
    const text = applyConfEdit(cur.stdout, needs.confEdit);
    const w = await host(['sh', '-c', 'cat > "$1.pve-k3s.tmp" && mv "$1.pve-k3s.tmp" "$1"', 'sh', file], text);
    if (w.code !== 0) fail(node, `writing ${file} failed`, { result: w, hint: continueHint(node) });
    const check = await host(['cat', file]);
    if (check.code !== 0 || !confReady(check.stdout))
      fail(node, `${file} still lacks the lxc.* lines after writing it`, {
        result: check.code !== 0 ? check : 'the current section is unchanged',
        hint: `edit ${file} on ${node.host} by hand (the lines go above the first [snapshot] section); ${continueHint(node)}`,
      });
    changed = true;
  }
  const status = await host(['pct', 'status', String(node.vmid)]);
  const running = /status: running/.test(status.stdout);
  if (!running) {
    o.log(`${node.name}: starting container ${node.vmid}`);
    const r = await host(['pct', 'start', String(node.vmid)]);
    if (r.code !== 0)
      fail(node, `pct start ${node.vmid} failed`, {
        result: r,
        hint: `look at pct start ${node.vmid} --debug on ${node.host}; ${continueHint(node)}`,
      });
    changed = true;
  } else if (changed || n.restart) {
    o.log(`${node.name}: restarting container ${node.vmid} to apply its configuration`);
    const r = await host(['pct', 'reboot', String(node.vmid)]);
    if (r.code !== 0) fail(node, `pct reboot ${node.vmid} failed`, { result: r, hint: continueHint(node) });
    changed = true;
  }
  const inside = await probeInside(p, node.vmid, o.signal);
  if (!inside.kmsg)
    fail(node, '/dev/kmsg does not exist after the restart', {
      result: 'the lxc.mount.entry for /dev/kmsg did not apply',
      hint: `check ${file} on ${node.host} (lxc.mount.entry: /dev/kmsg dev/kmsg none defaults,bind,create=file)`,
    });
  if (await fixInside(o, n, { pct: p, inside, beforeK3s: false })) changed = true;
  return changed;
}

/** rshared / (now and at boot), curl, config.yaml. `beforeK3s`: the config.yaml and curl part. */
async function fixInside(
  o: InstallRunOptions,
  n: NodeInstallPlan,
  { pct: p, inside, beforeK3s }: { pct: Pct; inside: InsideFacts; beforeK3s: boolean },
): Promise<boolean> {
  const node = n.node;
  const run = (argv: string[], stdin?: string) =>
    p.exec(node.vmid, argv, {
      timeoutMs: 10 * 60_000,
      ...(stdin !== undefined ? { stdin } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  let changed = false;
  if (!beforeK3s) {
    const installing = (node.role === 'server' ? inside.serverUnit : inside.agentUnit) === undefined;
    if (needsRsharedUnit(inside, installing) || inside.propagation !== 'shared') {
      o.log(`${node.name}: making / rshared (now and at every boot: ${RSHARED_UNIT})`);
      const unit = `/etc/systemd/system/${RSHARED_UNIT}`;
      const w = await run(['sh', '-c', 'cat > "$1"', 'sh', unit], `${RSHARED_UNIT_TEXT.join('\n')}\n`);
      const e = w.code === 0 ? await run(['systemctl', 'enable', RSHARED_UNIT]) : w;
      const m = e.code === 0 ? await run(['mount', '--make-rshared', '/']) : e;
      if (m.code !== 0) fail(node, 'making / rshared failed', { result: m, hint: continueHint(node) });
      changed = true;
    }
    return changed;
  }
  if (!inside.curl && o.airgap === undefined) {
    o.log(`${node.name}: installing curl (apt-get)`);
    const r = await run([
      'sh',
      '-c',
      'DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl ca-certificates',
    ]);
    if (r.code !== 0)
      fail(node, 'installing curl failed', { result: r, hint: `install curl in CT ${node.vmid} by hand; ${continueHint(node)}` });
    changed = true;
  }
  if (o.configYaml !== undefined && inside.configYaml !== o.configYaml) {
    o.log(`${node.name}: writing ${CONFIG_YAML}`);
    const r = await run(['sh', '-c', 'mkdir -p /etc/rancher/k3s && cat > "$1" && chmod 600 "$1"', 'sh', CONFIG_YAML], o.configYaml);
    if (r.code !== 0) fail(node, `writing ${CONFIG_YAML} failed`, { result: r, hint: continueHint(node) });
    changed = true;
  }
  return changed;
}

/** The cluster token, read from the first server's file over pct exec stdout; never shown. */
async function readToken(p: Pct, first: NodeSpec): Promise<string> {
  const r = await p.exec(first.vmid, ['cat', TOKEN_PATH], { timeoutMs: 60_000 });
  const token = r.stdout.trim();
  if (r.code !== 0 || token === '') {
    throw new RunError(
      `cannot read the cluster token from ${first.name} (${TOKEN_PATH}): ${r.code !== 0 ? failureReason({ ...r, stdout: '' }) : 'empty file'}`,
      { node: first.name, hint: `check that k3s runs on ${first.name}: pct exec ${first.vmid} -- systemctl status k3s (on ${first.host})` },
    );
  }
  return token;
}

/** https://<first server>:6443, its IP from its net0 (static) or from its node's InternalIP. */
async function serverUrl(o: InstallRunOptions, first: NodeSpec, kube: Kube): Promise<string> {
  const cfg = await kube.pct.shell.run(['pct', 'config', String(first.vmid)], { timeoutMs: 60_000 });
  let ip = staticIp(/^net0:\s*(.*)$/m.exec(cfg.stdout)?.[1]);
  if (ip === undefined) {
    const r = await kube.kubectl(['get', 'node', first.name, '-o', 'json'], { timeoutMs: 60_000 });
    try {
      const doc = parseJsonOutput(r.stdout) as { status?: { addresses?: Array<{ type?: string; address?: string }> } };
      ip = doc.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    } catch {
      ip = undefined;
    }
  }
  if (ip === undefined) {
    throw new RunError(`cannot tell the address of ${first.name}: no static ip in its net0 and no InternalIP`, {
      node: first.name,
      hint: `give it a static address (nodes.${first.name}.container.network ip=...)`,
    });
  }
  return `https://${ip}:6443`;
}

async function installK3s(
  o: InstallRunOptions,
  node: NodeSpec,
  { pct: p, config, token }: { pct: Pct; config: NodeInstallConfig; token: string | undefined },
): Promise<void> {
  const secrets = token ? [token, ...(token.includes('::server:') ? [token.split('::server:')[1] ?? ''] : [])] : [];
  let installScriptUrl = o.inventory.k3s.installScriptUrl;
  const installEnv: Record<string, string> = {};
  if (o.airgap) {
    installScriptUrl = await pushAirgap(p, node, { bundle: o.airgap, log: o.log, signal: o.signal });
    installEnv['INSTALL_K3S_SKIP_DOWNLOAD'] = 'true';
  }
  const script = buildInstallScript({ config, version: o.plan.version, installScriptUrl, installEnv });
  const r = await p.execScript(node.vmid, script, { timeoutMs: 15 * 60_000, ...(o.signal ? { signal: o.signal } : {}) });
  if (r.code !== 0) {
    const out = redact(r.stdout + r.stderr, secrets);
    const reason = failureReason({ code: r.code, stdout: redact(r.stdout, secrets), stderr: redact(r.stderr, secrets) });
    throw new RunError(`the k3s install script failed in ${node.name} (exit ${r.code}): ${reason}`, {
      node: node.name,
      hint: continueHint(node),
      detail: out,
    });
  }
}

/** The upgrade's health gate, at the installed version; `members`: the nodes of the cluster so far. */
async function waitHealthy(o: InstallRunOptions, node: NodeSpec, { kube, members }: { kube: Kube; members: string[] }): Promise<void> {
  const step: Step = {
    id: `install/${node.name}/wait-ready`,
    kind: 'wait-ready',
    node: node.name,
    vmid: node.vmid,
    host: node.host,
    role: node.role,
    version: o.plan.version,
  };
  const timeoutMs = o.inventory.upgrade.readyTimeoutSeconds * 1000;
  const servers = o.inventory.nodes.filter((n) => n.role === 'server' && members.includes(n.name)).map((n) => n.name);
  const gate = await waitHealthyGate(
    step,
    {
      kube,
      pct: (h) => pctFor(o, h),
      emit: (e) => {
        if (e.kind === 'wait') o.log(`${node.name}: waiting for Ready (${e.message})`);
      },
      signal: o.signal,
      clock: o.clock ?? systemClock,
      poll: o.poll ?? DEFAULT_POLL,
    },
    // A new node registers once its agent starts: its NotFound is waited for.
    { version: o.plan.version, timeoutMs, servers, nodeMayBeNew: true },
  );
  if (gate.healthy) return;
  const message = gateFailedMessage(step, { version: o.plan.version, timeoutMs, lastSeen: gate.lastSeen });
  throw new RunError(message, {
    node: node.name,
    hint: `look at the node: ${serviceLogCommand(step)}; raise upgrade.readyTimeout if it is just slow; ${continueHint(node)}`,
  });
}
