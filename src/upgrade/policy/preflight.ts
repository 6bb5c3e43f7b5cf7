/**
 * The preflight: the checks of ./checks.ts and the known issues of ./known-issues/, run on
 * the facts, the policy probe and the plan, with `--ignore-preflight` applied, as one report
 * (kubeadm's preflight, with `--ignore-preflight-errors` as `--ignore-preflight`). Pure apart
 * from parsing config.yaml (yaml, loaded by the caller).
 */
import { UsageError, type PlanError } from '../../domain/errors.js';
import type { ClusterFacts } from '../../domain/facts.js';
import type { UpgradePlan } from '../../domain/plan.js';
import type { PreflightReport, PreflightResult } from '../../domain/policy.js';
import { parseVersion, type K3sVersion } from '../../domain/version.js';
import type { Inventory } from '../../inventory/types.js';
import { parseExecStart } from '../../k3s/install-config.js';
import { get } from '../../proxmox/lxc-conf.js';
import { CHECKS } from './checks.js';
import { KNOWN_ISSUES, type IssueFix, type IssueNode } from './known-issues/index.js';
import type { PolicyProbe } from './probe.js';

/** Every id `--ignore-preflight` accepts (besides `all`). */
export const PREFLIGHT_IDS: readonly string[] = [...CHECKS.map((c) => c.id), ...KNOWN_ISSUES.map((k) => k.id)];

/** `--ignore-preflight a,b --ignore-preflight c` -> ids; refuses unknown ones, naming the valid ones. */
export function parseIgnores(values: readonly string[] | undefined): string[] {
  const ids = (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  const unknown = ids.filter((id) => id !== 'all' && !PREFLIGHT_IDS.includes(id));
  if (unknown.length > 0)
    throw new UsageError(`--ignore-preflight: unknown check ${unknown.map((u) => `"${u}"`).join(', ')}`, {
      hint: `checks: ${PREFLIGHT_IDS.join(', ')} (or all)`,
    });
  return [...new Set(ids)];
}

/** Parses a config.yaml's text into a mapping (undefined when it is not one). */
export type YamlParse = (text: string) => unknown;

export interface PreflightInput {
  inv: Inventory;
  facts: ClusterFacts;
  probe: PolicyProbe;
  plan: UpgradePlan | undefined;
  planError: PlanError | undefined;
  /** The version the known issues are checked against when there is no plan (the target asked for). */
  target: K3sVersion | undefined;
  snapshot: boolean;
  ignore: readonly string[];
  parseYaml: YamlParse;
  /** Check the versions the nodes run now instead of what the plan makes them (doctor). @default false */
  installed?: boolean;
}

export interface PreflightOutcome {
  report: PreflightReport;
  /** The fixes `--fix` can apply for what failed (ignored ones included: they are still problems). */
  fixes: IssueFix[];
}

export function runPreflight(input: PreflightInput): PreflightOutcome {
  const results: PreflightResult[] = [];
  const checkInput = {
    inv: input.inv,
    facts: input.facts,
    probe: input.probe,
    plan: input.plan,
    planError: input.planError,
    snapshot: input.snapshot,
  };
  if (!input.installed) for (const c of CHECKS) results.push(...c.run(checkInput));
  const nodes = issueNodes(input);
  const fixes: IssueFix[] = [];
  for (const k of KNOWN_ISSUES) {
    const found = k.detect(nodes);
    if (found.length === 0) {
      results.push({ id: k.id, status: 'pass', scope: 'cluster', message: `not affected (${k.affects})` });
      continue;
    }
    for (const f of found) {
      results.push({
        id: k.id,
        status: f.status,
        scope: f.scope,
        message: f.message,
        fix: f.fix,
        ...(f.autoFix ? { fixable: true } : {}),
        links: k.links,
      });
      if (f.autoFix) fixes.push(f.autoFix);
    }
  }
  const all = input.ignore.includes('all');
  for (const r of results) if ((r.status === 'fail' || r.status === 'warn') && (all || input.ignore.includes(r.id))) r.status = 'ignored';
  const checks = [...new Set(results.map((r) => r.id))];
  return {
    report: {
      ok: !results.some((r) => r.status === 'fail'),
      checks,
      ignored: [...input.ignore],
      target: input.plan?.target.version ?? input.target?.raw,
      results,
    },
    fixes,
  };
}

/** What the known issues see of each node, from the facts, the probe and the plan. */
function issueNodes(input: PreflightInput): IssueNode[] {
  const { facts, probe, plan } = input;
  const target = plan ? parseVersion(plan.target.version) : input.target;
  const moves = new Set(plan ? plan.phases.flatMap((p) => p.steps.filter((s) => s.kind === 'install').map((s) => s.node)) : []);
  return facts.nodes.map((f): IssueNode => {
    const hp = probe.hosts.find((h) => h.host === f.host);
    const conf = hp?.confs.get(f.vmid)?.current;
    const inside = hp?.inside.get(f.name);
    const installed = f.installed ?? undefined;
    // The version the node will run: its own (doctor), the target if the plan installs it, and
    // without a plan (the planner refused) the target for every node, to say what it would bring.
    const version = input.installed ? installed : plan ? (moves.has(f.name) ? target : installed) : (target ?? installed);
    const storageId = conf ? (get(conf, 'rootfs') ?? '').split(':')[0] : undefined;
    const cores = conf ? Number(get(conf, 'cores')) : NaN;
    return {
      name: f.name,
      role: f.role,
      host: f.host,
      vmid: f.vmid,
      version,
      conf,
      cores: Number.isInteger(cores) && cores > 0 ? cores : undefined,
      rootfsStorageType: storageId === undefined ? undefined : hp?.storage?.get(storageId),
      k3s: inside ? k3sOptions(inside.unit, inside.config, input.parseYaml) : undefined,
      pve: hp?.pve,
      hostConntrackMax: hp?.conntrackMax,
    };
  });
}

/** kube-proxy args, --disable-kube-proxy and the snapshotter, from the unit's ExecStart and config.yaml. */
export function k3sOptions(unit: string, configText: string, parseYaml: YamlParse): NonNullable<IssueNode['k3s']> {
  const out = { kubeProxyArgs: [] as string[], disableKubeProxy: false, snapshotter: undefined as string | undefined };
  let args: string[] = [];
  try {
    args = parseExecStart(unit)?.args ?? [];
  } catch {
    args = [];
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? args[++i] ?? '';
    if (flag === '--kube-proxy-arg') out.kubeProxyArgs.push(value());
    else if (flag === '--snapshotter') out.snapshotter = value();
    else if (flag === '--disable-kube-proxy') out.disableKubeProxy = inline === undefined || inline === 'true';
  }
  if (configText.trim() !== '') {
    let doc: unknown;
    try {
      doc = parseYaml(configText);
    } catch {
      doc = undefined;
    }
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
      const c = doc as Record<string, unknown>;
      for (const key of ['kube-proxy-arg', 'kube-proxy-arg+']) {
        const v = c[key];
        if (typeof v === 'string') out.kubeProxyArgs.push(v);
        else if (Array.isArray(v)) out.kubeProxyArgs.push(...v.filter((x): x is string => typeof x === 'string'));
      }
      if (typeof c['snapshotter'] === 'string') out.snapshotter = c['snapshotter'];
      if (c['disable-kube-proxy'] === true) out.disableKubeProxy = true;
    }
  }
  return out;
}
