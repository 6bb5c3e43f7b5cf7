/** The plan for people: phases, then one line per node with what will happen to it. */
import type { Step, UpgradePlan } from '../domain/plan.js';
import { planSteps } from '../domain/plan.js';
import type { HoldReason } from '../domain/policy.js';
import { renderPreflightBrief } from './render-preflight.js';
import { humanDuration } from '../domain/duration.js';
import { describeWindow } from '../domain/window.js';

const HELD_WORDS: Record<HoldReason, string> = {
  inventory: 'upgrade: false in the inventory',
  excluded: '--exclude',
  'not-selected': 'not named by --node',
};

/** The lines every plan ends with: held nodes, warnings, the preflight. */
function tail(plan: UpgradePlan, out: string[], preflight = true): void {
  const held = plan.nodes.filter((n) => n.held !== undefined);
  if (held.length > 0) out.push(`Held back: ${held.map((n) => `${n.node} (${HELD_WORDS[n.held!]})`).join(', ')}`);
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  if (plan.preflight && preflight) out.push(renderPreflightBrief(plan.preflight).trimEnd());
}

const ACTION_WORDS: Record<Step['kind'], string> = {
  drain: 'drain',
  install: 'install',
  restart: 'restart k3s',
  'wait-ready': 'wait Ready',
  uncordon: 'uncordon',
  soak: 'soak',
};

/** `soak 10m`, `ask to go on`, `soak 5m, then ask to go on`. */
export function soakWords(s: Step): string {
  const spec = s.soak;
  if (!spec) return 'soak';
  const parts = spec.seconds > 0 ? [`soak ${humanDuration(spec.seconds * 1000)}`] : [];
  if (spec.confirm) parts.push(parts.length ? 'then ask to go on' : 'ask to go on');
  return parts.join(', ');
}

export function renderPlan(plan: UpgradePlan): string {
  const out: string[] = [];
  out.push(`Cluster ${plan.cluster}: target ${plan.target.version} (${plan.target.source})`);
  const steps = planSteps(plan);
  if (steps.length === 0) {
    const held = plan.nodes.filter((n) => n.held !== undefined).length;
    out.push(
      held > 0
        ? `Nothing to do: the ${plan.nodes.length - held} selected node(s) run ${plan.target.version}.`
        : `Nothing to do: all ${plan.nodes.length} nodes run ${plan.target.version}.`,
    );
    // Nothing will run: what the preflight says does not matter now (it is in -o json).
    tail(plan, out, false);
    return out.join('\n') + '\n';
  }
  const touched = plan.nodes.filter((n) => n.action !== 'none');
  out.push(`${touched.length} of ${plan.nodes.length} nodes to change, ${steps.length} steps:`);
  plan.phases.forEach((phase, i) => {
    const kind = phase.steps.every((s) => s.id.startsWith('0/'))
      ? 'finish an interrupted upgrade'
      : `${phase.minor ? 'minor' : 'patch'} upgrade to ${phase.version}, ${phase.order}${phase.concurrency > 1 ? `, up to ${phase.concurrency} workers at once` : ''}`;
    out.push(`Phase ${i + 1}/${plan.phases.length}: ${kind}`);
    const byNode = new Map<string, Step[]>();
    for (const s of phase.steps) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
    let n = 0;
    for (const [node, ss] of byNode) {
      const first = ss[0]!;
      const from = ss.find((s) => s.from !== undefined)?.from;
      const what = ss
        .map((s) =>
          s.kind === 'install'
            ? `install ${s.version}`
            : s.kind === 'wait-ready'
              ? `wait Ready at ${s.version}`
              : s.kind === 'soak'
                ? soakWords(s)
                : ACTION_WORDS[s.kind],
        )
        .join(', ');
      out.push(
        `  ${++n}. ${node} (${first.role}, CT ${first.vmid} on ${first.host})${from ? ` ${from} -> ${phase.version}` : ''}: ${what}`,
      );
    }
  });
  const stays = plan.nodes.filter((n) => n.staysCordoned);
  for (const s of stays) out.push(`note: ${s.node} was cordoned before this run and stays cordoned afterwards`);
  const untouched = plan.nodes.filter((n) => n.action === 'none' && n.held === undefined);
  if (untouched.length > 0) out.push(`Unchanged (already ${plan.target.version}): ${untouched.map((n) => n.node).join(', ')}`);
  const c = plan.policy?.canary;
  if (c)
    out.push(
      `Canary: ${c.node} goes first, alone; ${c.soakSeconds !== undefined ? `the rest follow once it has stayed healthy for ${humanDuration(c.soakSeconds * 1000)}` : 'the rest follow once you confirm it (on the terminal, or --yes)'}`,
    );
  const w = plan.policy?.window;
  if (w)
    out.push(
      `Window: ${describeWindow(w)}: no node starts outside it; a run that reaches its end stops after the node in flight (resume goes on in the next one)`,
    );
  const gates = plan.policy?.gates;
  if (gates) {
    const parts: string[] = [];
    if (gates.prometheus)
      parts.push(
        `no ${gates.alertFiringOnly ? 'firing' : 'active'} alert at ${gates.prometheus}${gates.alertFilterRegexp ? ` ${gates.alertFilterMatchOnly ? 'matching' : 'other than those matching'} /${gates.alertFilterRegexp}/` : ''}`,
      );
    if (gates.blockingPodSelector?.length) parts.push(`no pod matching ${gates.blockingPodSelector.join(' or ')} on the node`);
    out.push(`Gates: before each node, ${parts.join(', and ')} (waiting at most ${humanDuration((gates.timeoutSeconds ?? 3600) * 1000)})`);
  }
  if (plan.policy?.notify?.length) out.push(`Notify: ${plan.policy.notify.join(', ')} (run start, each node, the end)`);
  if (plan.policy?.soakSeconds)
    out.push(`Soak: each node must stay healthy for ${humanDuration(plan.policy.soakSeconds * 1000)} before the next starts`);
  tail(plan, out);
  return out.join('\n') + '\n';
}
