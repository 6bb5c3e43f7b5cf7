import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planUpgrade, type PlanPolicy } from '../../../src/upgrade/plan/planner.js';
import { planSteps } from '../../../src/domain/plan.js';
import { compareVersions, parseVersion } from '../../../src/domain/version.js';
import { parseChannels } from '../../../src/channel/channels.js';
import { PlanError } from '../../../src/domain/errors.js';
import { facts, type NodeSketch } from '../../helpers/facts.js';
import { fixture } from '../../helpers/fixtures.js';

const channels = parseChannels(fixture('channels.json'), 'https://update.k3s.io/v1-release/channels');

// Versions a node can run: minors 30..33 (channels list their latest).
const versionArb = fc
  .record({ minor: fc.integer({ min: 30, max: 33 }), patch: fc.integer({ min: 0, max: 5 }) })
  .map(({ minor, patch }) => `v1.${minor}.${patch}+k3s1`);

/** A cluster that respects the skew policy to begin with. */
const clusterArb = fc
  .record({
    servers: fc.array(versionArb, { minLength: 1, maxLength: 3 }),
    agents: fc.array(fc.record({ v: versionArb, cordoned: fc.boolean() }), { maxLength: 6 }),
  })
  .filter(({ servers, agents }) => {
    const minors = servers.map((v) => parseVersion(v).minor);
    const lo = Math.min(...minors);
    return Math.max(...minors) - lo <= 1 && agents.every((a) => parseVersion(a.v).minor <= lo);
  })
  .map(({ servers, agents }): NodeSketch[] => [
    ...servers.map((version, i) => ({ name: `server-${i + 1}`, role: 'server' as const, version })),
    ...agents.map((a, i) => ({ name: `agent-${i + 1}`, version: a.v, schedulable: !a.cordoned })),
  ]);

const policyArb = fc.record({
  order: fc.constantFrom('auto', 'workers-first', 'servers-first') as fc.Arbitrary<PlanPolicy['order']>,
  allowSkew: fc.boolean(),
  drainServers: fc.constantFrom('auto', 'always', 'never') as fc.Arbitrary<PlanPolicy['drainServers']>,
});

const targetArb = fc.constantFrom('v1.33.5+k3s1', 'v1.33.2+k3s1', 'v1.34.1+k3s1', 'v1.32.9+k3s1');

function tryPlan(nodes: NodeSketch[], t: string, p: PlanPolicy) {
  try {
    return planUpgrade(facts(nodes), { version: parseVersion(t), source: 'test' }, { ...p, channels });
  } catch (e) {
    if (e instanceof PlanError) return e;
    throw e;
  }
}

test('PROPERTY every plan ends with every node at the target, touching only nodes that differ', () => {
  fc.assert(
    fc.property(clusterArb, targetArb, policyArb, (nodes, t, p) => {
      const plan = tryPlan(nodes, t, p);
      if (plan instanceof PlanError) {
        assert.ok(['downgrade', 'skew', 'no-intermediate-release'].includes(plan.reason), plan.message);
        if (plan.reason === 'downgrade') assert.ok(nodes.some((n) => compareVersions(parseVersion(n.version), parseVersion(t)) > 0));
        if (plan.reason === 'skew') assert.equal(p.allowSkew, false);
        return;
      }
      assert.ok(nodes.every((n) => compareVersions(parseVersion(n.version), parseVersion(t)) <= 0));
      const touched = new Set(planSteps(plan).map((s) => s.node));
      for (const n of nodes) assert.equal(touched.has(n.name), n.version !== t, n.name);
      for (const n of plan.nodes) assert.equal(n.to, n.action === 'none' ? n.from : t);
    }),
    { numRuns: 400 },
  );
});

test('PROPERTY without --allow-skew no agent kubelet is ever newer than the oldest apiserver, and apiservers stay within one minor', () => {
  fc.assert(
    fc.property(clusterArb, targetArb, policyArb, (nodes, t, p) => {
      const plan = tryPlan(nodes, t, { ...p, allowSkew: false });
      if (plan instanceof PlanError) return;
      const v = new Map(nodes.map((n) => [n.name, parseVersion(n.version)]));
      const role = new Map(nodes.map((n) => [n.name, n.role ?? 'agent']));
      for (const s of planSteps(plan)) {
        if (s.kind !== 'install') continue;
        v.set(s.node, parseVersion(s.version));
        const serverMinors = nodes.filter((n) => role.get(n.name) === 'server').map((n) => v.get(n.name)!.minor);
        const oldest = Math.min(...serverMinors);
        assert.ok(Math.max(...serverMinors) - oldest <= 1, `apiservers apart after ${s.id}`);
        for (const n of nodes)
          if (role.get(n.name) === 'agent') assert.ok(v.get(n.name)!.minor <= oldest, `kubelet ${n.name} newer after ${s.id}`);
      }
    }),
    { numRuns: 400 },
  );
});

test('PROPERTY phases never skip a minor, and with order auto minor phases go servers first, patch phases workers first', () => {
  fc.assert(
    fc.property(clusterArb, targetArb, (nodes, t) => {
      const plan = tryPlan(nodes, t, { order: 'auto', allowSkew: false, drainServers: 'auto' });
      if (plan instanceof PlanError) return;
      let minor = Math.min(...nodes.map((n) => parseVersion(n.version).minor));
      for (const phase of plan.phases) {
        const pv = parseVersion(phase.version);
        assert.ok(pv.minor - minor <= 1, `phase ${phase.version} skips a minor`);
        minor = Math.max(minor, pv.minor);
        if (phase.steps.every((s) => s.id.startsWith('0/'))) continue;
        const roles = phase.steps.filter((s) => s.kind === 'install').map((s) => s.role);
        const firstAgent = roles.indexOf('agent');
        const lastServer = roles.lastIndexOf('server');
        if (firstAgent >= 0 && lastServer >= 0) {
          if (phase.minor) assert.ok(lastServer < firstAgent, 'servers first in a minor phase');
          else assert.ok(firstAgent < lastServer, 'workers first in a patch phase');
        }
      }
    }),
    { numRuns: 400 },
  );
});

test("PROPERTY a node's steps are contiguous and ordered (one node at a time), and every drain we own is undone", () => {
  fc.assert(
    fc.property(clusterArb, targetArb, policyArb, (nodes, t, p) => {
      const plan = tryPlan(nodes, t, { ...p, allowSkew: true });
      if (plan instanceof PlanError) return;
      const rank = { drain: 0, install: 1, restart: 1, 'wait-ready': 2, uncordon: 3, soak: 4 } as const;
      for (const phase of plan.phases) {
        const seen: string[] = [];
        let prev: (typeof phase.steps)[number] | undefined;
        for (const s of phase.steps) {
          if (prev && prev.node === s.node) assert.ok(rank[prev.kind] < rank[s.kind], `${prev.id} before ${s.id}`);
          else {
            assert.ok(!seen.includes(s.node), `${s.node} is interleaved with another node`);
            seen.push(s.node);
          }
          prev = s;
        }
        for (const d of phase.steps.filter((s) => s.kind === 'drain')) {
          const stays: boolean = plan.nodes.find((n) => n.node === d.node)!.staysCordoned;
          assert.equal(
            phase.steps.some((s) => s.node === d.node && s.kind === 'uncordon'),
            !stays,
            d.id,
          );
        }
      }
    }),
    { numRuns: 400 },
  );
});

test('PROPERTY each phase says how many workers go at once: at least 1, never more than its workers, and one schedulable worker always stays up', () => {
  fc.assert(
    fc.property(clusterArb, targetArb, policyArb, fc.integer({ min: 1, max: 8 }), (nodes, t, p, parallel) => {
      const plan = tryPlan(nodes, t, { ...p, parallel });
      if (plan instanceof PlanError) return;
      const schedulable = plan.nodes.filter((n) => n.role === 'agent' && !n.staysCordoned).length;
      for (const phase of plan.phases) {
        const workers = new Set(phase.steps.filter((s) => s.role === 'agent').map((s) => s.node)).size;
        assert.ok(phase.concurrency >= 1 && phase.concurrency <= parallel, `${phase.concurrency} of ${parallel}`);
        assert.ok(phase.concurrency <= Math.max(1, workers), `${phase.concurrency} with ${workers} workers`);
        if (phase.concurrency > 1) assert.ok(phase.concurrency <= schedulable - 1, `${phase.concurrency} with ${schedulable} schedulable`);
      }
    }),
  );
});

/** A selection of some nodes: an arbitrary subset named by --node, --exclude or `upgrade: false`. */
const selectionArb = (names: string[]) =>
  fc.record({
    only: fc.option(fc.subarray(names, { minLength: 1 }), { nil: undefined }),
    exclude: fc.subarray(names),
    held: fc.subarray(names),
  });

test('PROPERTY held nodes never get a step; an accepted selection never breaks the skew rules; a refused one names nodes that make it plan', () => {
  fc.assert(
    fc.property(
      clusterArb.chain((nodes) => fc.tuple(fc.constant(nodes), selectionArb(nodes.map((n) => n.name)))),
      targetArb,
      policyArb,
      ([nodes, selection], t, p) => {
        const policy = { ...p, allowSkew: false, selection };
        const plan = tryPlan(nodes, t, policy);
        if (plan instanceof PlanError) {
          if (plan.reason !== 'selection' || !plan.message.includes('must come along: ')) return;
          // Taking the named nodes along makes the selection plan (or fail for a reason that is not the selection).
          const along = plan.message.slice(plan.message.indexOf('must come along: ') + 'must come along: '.length).split(', ');
          const wider = {
            only: selection.only ? [...selection.only, ...along] : undefined,
            exclude: selection.exclude.filter((n) => !along.includes(n)),
            held: selection.held.filter((n) => !along.includes(n)),
          };
          const again = tryPlan(nodes, t, { ...policy, selection: wider });
          assert.ok(
            !(again instanceof PlanError && again.reason === 'selection' && again.message.includes('must come along')),
            String(again),
          );
          return;
        }
        const held = new Set(plan.nodes.filter((n) => n.held !== undefined).map((n) => n.node));
        for (const s of planSteps(plan)) assert.ok(!held.has(s.node), `${s.id} touches a held node`);
        for (const n of nodes) {
          const expectHeld =
            selection.exclude.includes(n.name) ||
            (selection.only !== undefined && !selection.only.includes(n.name)) ||
            (selection.held.includes(n.name) && !selection.only?.includes(n.name));
          assert.equal(held.has(n.name), expectHeld, n.name);
        }
        // The skew rules hold at every step, held nodes included.
        const v = new Map(nodes.map((n) => [n.name, parseVersion(n.version)]));
        const role = new Map(nodes.map((n) => [n.name, n.role ?? 'agent']));
        for (const s of planSteps(plan)) {
          if (s.kind !== 'install') continue;
          v.set(s.node, parseVersion(s.version));
          const serverMinors = nodes.filter((n) => role.get(n.name) === 'server').map((n) => v.get(n.name)!.minor);
          const oldest = Math.min(...serverMinors);
          assert.ok(Math.max(...serverMinors) - oldest <= 1, `apiservers apart after ${s.id}`);
          for (const n of nodes)
            if (role.get(n.name) === 'agent') assert.ok(v.get(n.name)!.minor <= oldest, `kubelet ${n.name} newer after ${s.id}`);
        }
      },
    ),
    { numRuns: 400 },
  );
});
