/**
 * The known-issue catalogue (src/upgrade/policy/known-issues/), one entry at a time, on a lab
 * that has the problem: the preflight names it with its fix, the lab breaks the way real nodes
 * do when the upgrade goes on anyway, and `preflight --fix` / `doctor --fix` apply the safe
 * fixes (each shown first), after which the upgrade goes through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';
import { DEFAULT_CHANNELS, labBreak, labPolicyProblem, type LabPolicyProblem } from '../../../src/lab/index.js';
import type { LabState } from '../../../src/lab/types.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  // A node that never gets Ready (the lab has the problem) fails the run after 20 s of lab time, not 10 min.
  appendFileSync(f.inventory, 'upgrade:\n  readyTimeout: 20s\n');
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

/** The lab's channels with these `[channel, latest]` set (added when absent). */
function channelsWith(entries: Array<[string, string]>): unknown {
  const c = structuredClone(DEFAULT_CHANNELS) as { data: Array<Record<string, unknown>> };
  for (const [id, latest] of entries) {
    const found = c.data.find((d) => d.id === id);
    if (found) found.latest = latest;
    else c.data.push({ id, type: 'channel', name: id, latest, latestRegexp: `${id.replace('.', '\\.')}\\..*`, excludeRegexp: '^[^+]+-' });
  }
  return c;
}
/** Kubernetes 1.36 is in the channel: stable moves there, the cluster runs 1.35. */
const K136 = {
  version: 'v1.35.4+k3s1',
  channels: channelsWith([
    ['v1.35', 'v1.35.4+k3s1'],
    ['v1.36', 'v1.36.1+k3s1'],
    ['stable', 'v1.36.1+k3s1'],
  ]),
};
/** The November 2025 k3s with the runc fix for CVE-2025-52881 is the stable target. */
const RUNC_FIX = {
  channels: channelsWith([
    ['v1.33', 'v1.33.6+k3s1'],
    ['stable', 'v1.33.6+k3s1'],
  ]),
};

interface R {
  id: string;
  status: string;
  scope: string;
  message: string;
  fix?: string;
  fixable?: boolean;
  links?: string[];
}
async function preflight(f: LabFixture, args: string[] = []) {
  const r = await f.cli(['preflight', '-o', 'json', ...args]);
  const doc = JSON.parse(r.stdout || '{}') as { ok: boolean; target: string; results: R[]; fixes: Array<{ fix: string; ok: boolean }> };
  return { code: r.code, doc, stderr: r.stderr };
}
const problems = (results: R[]) => results.filter((r) => r.status !== 'pass').map((r) => [r.id, r.status, r.scope]);
function breakLab(f: LabFixture, list: Array<[string, LabPolicyProblem]>) {
  f.lab.update((s) => {
    for (const [node, what] of list) labPolicyProblem(s, node, what);
  });
}
function ct(s: LabState, name: string) {
  const c = s.hosts.flatMap((h) => h.containers).find((x) => x.hostname === name);
  assert.ok(c, name);
  return c;
}
const conf = (f: LabFixture, name: string, key: string) => ct(f.lab.state, name).config.find(([k]) => k === key)?.[1];
const file = (f: LabFixture, name: string, path: string): string | undefined => {
  const e = ct(f.lab.state, name).fs[path] as { content?: string } | undefined;
  return e?.content;
};
/** A file in a container, as a user would have written it (its directories made). */
function putFile(f: LabFixture, name: string, path: string, content: string) {
  f.lab.update((s) => {
    const fs = ct(s, name).fs;
    const parts = path.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) fs['/' + parts.slice(0, i).join('/')] ??= { content: '', mode: 0o755, dir: true };
    fs[path] = { content, mode: 0o600 };
  });
}
/** The message of the node's Ready condition, as the kubelet posts it (read with the controller's kubectl). */
async function notReadyBecause(f: LabFixture, node: string): Promise<string> {
  const r = await f.lab.shell('pve1').run(['pct', 'exec', '100', '--', '/usr/local/bin/kubectl', 'get', 'node', node, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { status: { conditions: Array<{ type: string; status: string; message: string }> } };
  const ready = doc.status.conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  return ready.message;
}
const nodes = (f: LabFixture) => f.lab.summary().filter((n) => n.version !== undefined);

test('GIVEN a 1.36 target and a host whose nf_conntrack_max is below what kube-proxy wants WHEN preflight runs THEN kube-proxy-conntrack fails on every node, fixable', async () => {
  await withLab({ ...K136, workers: 1 }, async (f) => {
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    assert.equal(doc.target, 'v1.36.1+k3s1');
    assert.deepEqual(problems(doc.results), [
      ['kube-proxy-conntrack', 'fail', 'k3s-ctrl-1'],
      ['kube-proxy-conntrack', 'fail', 'k3s-worker-1'],
    ]);
    const r = doc.results.find((x) => x.id === 'kube-proxy-conntrack')!;
    assert.equal(
      r.message,
      'k3s v1.36.1+k3s1 (Kubernetes 1.36) runs kube-proxy, which fails in LXC with "nf_conntrack_max: permission denied": pve1\'s nf_conntrack_max is 65536, below the 131072 it wants, and no kube-proxy-arg conntrack-max-per-core=0',
    );
    assert.match(r.fix!, /^add "kube-proxy-arg: \[conntrack-max-per-core=0\]" to \/etc\/rancher\/k3s\/config\.yaml in CT 100/);
    assert.equal(r.fixable, true);
    assert.deepEqual(r.links, ['https://github.com/kubernetes/kubernetes/issues/141943']);
    // The cluster's own version (1.35) is not affected: pinned to it, nothing fails.
    assert.deepEqual(problems((await preflight(f, ['--k3s-version', 'v1.35.4+k3s1'])).doc.results), []);
    // A host already at the value kube-proxy wants is safe.
    breakLab(f, [['k3s-ctrl-1', 'conntrack-high']]);
    assert.deepEqual(problems((await preflight(f)).doc.results), [['kube-proxy-conntrack', 'fail', 'k3s-worker-1']]);
  });
});

test("GIVEN kube-proxy-conntrack WHEN the upgrade goes on anyway THEN the first node stays NotReady with kube-proxy's error", async () => {
  await withLab({ ...K136, workers: 1 }, async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--ignore-preflight', 'kube-proxy-conntrack']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: node k3s-ctrl-1 did not pass its health gate at v1\.36\.1\+k3s1 within 20s \(last seen: NotReady/m);
    assert.match(
      await notReadyBecause(f, 'k3s-ctrl-1'),
      /kube-proxy: failed to set sysctl net\/netfilter\/nf_conntrack_max to 131072: open \/proc\/sys\/net\/netfilter\/nf_conntrack_max: permission denied/,
    );
    assert.deepEqual(
      nodes(f).map((n) => [n.name, n.version, n.ready]),
      [
        ['k3s-ctrl-1', 'v1.36.1+k3s1', false],
        ['k3s-worker-1', 'v1.35.4+k3s1', true],
      ],
    );
  });
});

test('GIVEN kube-proxy-conntrack WHEN preflight --fix runs THEN it shows the fixes, adds the kube-proxy-arg to each config.yaml without a restart, and the upgrade then goes through', async () => {
  await withLab({ ...K136, workers: 1 }, async (f) => {
    putFile(f, 'k3s-worker-1', '/etc/rancher/k3s/config.yaml', '# mine\nnode-label:\n  - zone=a\n');
    const r = await f.cli(['preflight', '--fix']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const list = r.stdout.indexOf('The safe fixes (2):\n');
    assert.ok(list > 0, r.stdout);
    assert.ok(
      r.stdout.includes(
        '  - k3s-ctrl-1: add kube-proxy-arg conntrack-max-per-core=0 to /etc/rancher/k3s/config.yaml in CT 100 (applies when the upgrade restarts k3s)\n',
      ),
      r.stdout,
    );
    const fixed = r.stdout.indexOf('  fixed: k3s-worker-1: add kube-proxy-arg conntrack-max-per-core=0');
    assert.ok(fixed > list, 'each fix is shown before it is applied');
    assert.match(r.stdout, /written; applies when k3s next starts \(the upgrade restarts it\)$/m);
    assert.match(r.stdout, /^After the fixes:\n/m);
    assert.match(r.stderr, /^fixing k3s-ctrl-1: add kube-proxy-arg/m);
    assert.equal(file(f, 'k3s-ctrl-1', '/etc/rancher/k3s/config.yaml')?.trim(), 'kube-proxy-arg:\n  - conntrack-max-per-core=0');
    assert.equal(
      file(f, 'k3s-worker-1', '/etc/rancher/k3s/config.yaml'),
      '# mine\nnode-label:\n  - zone=a\nkube-proxy-arg:\n  - conntrack-max-per-core=0\n',
      'comments and other keys are kept',
    );
    assert.deepEqual(problems((await preflight(f)).doc.results), []);
    const up = await f.cli(['upgrade', '--yes']);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.deepEqual(
      nodes(f).map((n) => [n.name, n.version, n.ready]),
      [
        ['k3s-ctrl-1', 'v1.36.1+k3s1', true],
        ['k3s-worker-1', 'v1.36.1+k3s1', true],
      ],
    );
  });
});

test('GIVEN a target with the runc CVE-2025-52881 fix and an AppArmor-confined container WHEN preflight runs THEN runc-apparmor fails for it; upgraded anyway, its pods cannot start', async () => {
  await withLab({ ...RUNC_FIX, workers: 2 }, async (f) => {
    breakLab(f, [['k3s-worker-1', 'apparmor-confined']]);
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    assert.deepEqual(problems(doc.results), [['runc-apparmor', 'fail', 'k3s-worker-1']]);
    const r = doc.results.find((x) => x.id === 'runc-apparmor')!;
    assert.equal(
      r.message,
      'k3s v1.33.6+k3s1 ships runc with the CVE-2025-52881 fix, and CT 101 is AppArmor-confined (no lxc.apparmor.profile line: the Proxmox default profile) on lxc-pve 6.0.0-1: pods would fail with "ip_unprivileged_port_start ... permission denied"',
    );
    assert.equal(
      r.fix,
      'add "lxc.apparmor.profile: unconfined" to /etc/pve/lxc/101.conf above any [snapshot] section and restart the container (pct reboot 101 on pve1), or update lxc-pve to 6.0.5-2 or later on pve1',
    );
    // Before the fixed runc the container is fine as it is.
    assert.deepEqual(problems((await preflight(f, ['--k3s-version', 'v1.33.5+k3s1'])).doc.results), []);
    const up = await f.cli(['upgrade', '--yes', '--ignore-preflight', 'runc-apparmor']);
    assert.equal(up.code, 1, up.stdout + up.stderr);
    assert.match(up.stderr, /^error: node k3s-worker-1 did not pass its health gate at v1\.33\.6\+k3s1/m);
    assert.match(
      await notReadyBecause(f, 'k3s-worker-1'),
      /open sysctl net\.ipv4\.ip_unprivileged_port_start file: reopen fd 8: permission denied/,
    );
    assert.deepEqual(
      nodes(f).find((n) => n.name === 'k3s-worker-1'),
      { ...nodes(f).find((n) => n.name === 'k3s-worker-1'), version: 'v1.33.6+k3s1', ready: false },
    );
  });
});

test('GIVEN runc-apparmor WHEN preflight --fix runs THEN it asks first (refusing without a terminal), and with --yes sets the AppArmor line, restarts the container, waits Ready; the upgrade then goes through', async () => {
  await withLab({ ...RUNC_FIX, workers: 2 }, async (f) => {
    breakLab(f, [['k3s-worker-1', 'apparmor-confined']]);
    const before = ct(f.lab.state, 'k3s-worker-1').startedAt;
    const asked = await f.cli(['preflight', '--fix']);
    assert.equal(asked.code, 2);
    assert.match(
      asked.stdout,
      /^ {2}- k3s-worker-1: set lxc\.apparmor\.profile: unconfined in \/etc\/pve\/lxc\/101\.conf on pve1, then restart/m,
    );
    assert.match(asked.stderr, /^error: refusing to restart containers without confirmation: not running in a terminal$/m);
    assert.equal(conf(f, 'k3s-worker-1', 'lxc.apparmor.profile'), undefined, 'nothing changed');

    const r = await f.cli(['preflight', '--fix', '--yes']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const shown = r.stdout.indexOf(
      '  - k3s-worker-1: set lxc.apparmor.profile: unconfined in /etc/pve/lxc/101.conf on pve1, then restart the container (pct reboot 101) and wait until the node is Ready\n',
    );
    const done = r.stdout.indexOf(
      '  fixed: k3s-worker-1: set lxc.apparmor.profile: unconfined in /etc/pve/lxc/101.conf on pve1, then restart the container (pct reboot 101) and wait until the node is Ready: written; container restarted, node Ready\n',
    );
    assert.ok(shown > 0 && done > shown, r.stdout);
    assert.equal(conf(f, 'k3s-worker-1', 'lxc.apparmor.profile'), 'unconfined');
    assert.ok(ct(f.lab.state, 'k3s-worker-1').startedAt > before, 'the container was restarted');
    assert.equal(ct(f.lab.state, 'k3s-worker-2').startedAt, before, 'only that one');
    const up = await f.cli(['upgrade', '--yes']);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.ok(nodes(f).every((n) => n.version === 'v1.33.6+k3s1' && n.ready));
  });
});

test('GIVEN Proxmox VE 9 and a container with cgroup v1 keys (its node NotReady) WHEN preflight and doctor run THEN cgroup-v1-pve9 fails; doctor --fix --yes renames the keys once and restarts the container', async () => {
  await withLab({ workers: 2 }, async (f) => {
    f.lab.update((s) => {
      labPolicyProblem(s, 'k3s-worker-1', 'pve9');
      labBreak(s, { node: 'k3s-worker-1', what: 'cgroup-v1' });
    });
    // The lab has the problem: the container runs on a host without cgroup v1, its node is NotReady.
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    assert.deepEqual(problems(doc.results), [
      ['node-ready', 'fail', 'k3s-worker-1'],
      ['cgroup-v1-pve9', 'fail', 'k3s-worker-1'],
    ]);
    assert.match(await notReadyBecause(f, 'k3s-worker-1'), /devices cgroup: open \/dev\/kmsg: operation not permitted/);
    assert.equal(
      doc.results.find((x) => x.id === 'cgroup-v1-pve9')!.message,
      'pve1 runs Proxmox VE 9.0.10, which has no cgroup v1: lxc.cgroup.devices.allow in /etc/pve/lxc/101.conf does nothing',
    );
    const d = await f.cli(['doctor', '--fix', '--yes']);
    assert.match(
      d.stdout,
      /^FAIL {2}cgroup-v1 {2,}k3s-worker-1: cgroup v1 keys in \/etc\/pve\/lxc\/101\.conf: lxc\.cgroup\.devices\.allow$/m,
    );
    assert.match(d.stdout, /^FAIL {2}cgroup-v1-pve9 {2,}k3s-worker-1: pve1 runs Proxmox VE 9\.0\.10, which has no cgroup v1/m);
    const fixes = d.stdout.split('\n').filter((l) => l.startsWith('  - '));
    assert.deepEqual(fixes, [
      '  - k3s-worker-1: rename lxc.cgroup.* to lxc.cgroup2.* in /etc/pve/lxc/101.conf on pve1, then restart the container (pct reboot 101) and wait until the node is Ready',
    ]);
    assert.match(
      d.stdout,
      /^ {2}fixed: k3s-worker-1: rename lxc\.cgroup\.\* to lxc\.cgroup2\.\*.*: written; container restarted, node Ready$/m,
    );
    assert.equal(conf(f, 'k3s-worker-1', 'lxc.cgroup.devices.allow'), undefined);
    assert.equal(conf(f, 'k3s-worker-1', 'lxc.cgroup2.devices.allow'), 'a');
    assert.equal(nodes(f).find((n) => n.name === 'k3s-worker-1')?.ready, true);
    const again = await f.cli(['doctor', '-o', 'json']);
    const results = (JSON.parse(again.stdout) as { results: Array<{ check: string; status: string }> }).results;
    assert.deepEqual(
      results.filter((x) => x.status !== 'ok').map((x) => x.check),
      [],
    );
  });
});

test('GIVEN a container on ZFS before OpenZFS 2.2 with the overlayfs snapshotter WHEN preflight runs THEN zfs-overlayfs fails with its fix, not fixable; snapshotter native passes', async () => {
  await withLab({ workers: 1 }, async (f) => {
    breakLab(f, [['k3s-worker-1', 'zfs-old']]);
    const { code, doc } = await preflight(f);
    assert.equal(code, 1);
    assert.deepEqual(problems(doc.results), [['zfs-overlayfs', 'fail', 'k3s-worker-1']]);
    const r = doc.results.find((x) => x.id === 'zfs-overlayfs')!;
    assert.equal(r.message, "CT 101's rootfs is on ZFS (OpenZFS 2.1.15-pve1 on pve2) with containerd's default overlayfs snapshotter");
    assert.match(r.fix!, /^set "snapshotter: native" in \/etc\/rancher\/k3s\/config\.yaml before the node is \(re\)installed/);
    assert.equal(r.fixable, undefined, 'changing the snapshotter of a running node loses its images: not for --fix');
    const fix = await f.cli(['preflight', '--fix']);
    assert.equal(fix.code, 1);
    assert.doesNotMatch(fix.stdout, /The safe fixes/);
    putFile(f, 'k3s-worker-1', '/etc/rancher/k3s/config.yaml', 'snapshotter: native\n');
    assert.deepEqual(problems((await preflight(f)).doc.results), []);
  });
});

test('GIVEN a 1.35 cluster WHEN doctor runs with --k3s-version 1.36 THEN it names what the upgrade would break; doctor --fix adds the kube-proxy-arg without asking', async () => {
  await withLab({ ...K136, workers: 1 }, async (f) => {
    const now = await f.cli(['doctor', '-o', 'json']);
    assert.equal(now.code, 0, now.stdout);
    const r1 = (JSON.parse(now.stdout) as { results: Array<{ check: string; status: string; message: string }> }).results;
    assert.deepEqual(
      r1.filter((x) => x.check === 'kube-proxy-conntrack'),
      [
        {
          check: 'kube-proxy-conntrack',
          scope: 'cluster',
          status: 'ok',
          message: 'not affected (Kubernetes 1.36 and later (k3s v1.36.0+k3s1 on))',
          fixable: false,
        },
      ],
    );
    const then = await f.cli(['doctor', '--k3s-version', 'v1.36.1+k3s1']);
    assert.equal(then.code, 1);
    assert.match(
      then.stdout,
      /^FAIL {2}kube-proxy-conntrack +k3s-worker-1: after an upgrade to v1\.36\.1\+k3s1: k3s v1\.36\.1\+k3s1 \(Kubernetes 1\.36\) runs kube-proxy/m,
    );
    assert.match(then.stdout, /^ +cause: kube-proxy 1\.36 cannot set nf_conntrack_max in a container \(Kubernetes 1\.36 and later/m);
    assert.match(then.stdout, /^ +fix: {3}add "kube-proxy-arg: \[conntrack-max-per-core=0\]".* \[--fix\]$/m);
    const bad = await f.cli(['doctor', '--k3s-version', '1.36']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: --k3s-version: must be a k3s version such as v1\.33\.5\+k3s1, got "1\.36"$/m);

    const fixed = await f.cli(['doctor', '--k3s-version', 'v1.36.1+k3s1', '--fix']);
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.match(
      fixed.stdout,
      /^ {2}- k3s-ctrl-1: add kube-proxy-arg conntrack-max-per-core=0 to \/etc\/rancher\/k3s\/config\.yaml in CT 100/m,
    );
    assert.match(fixed.stdout, /^ {2}fixed: k3s-worker-1: add kube-proxy-arg conntrack-max-per-core=0/m);
    assert.equal(file(f, 'k3s-worker-1', '/etc/rancher/k3s/config.yaml')?.trim(), 'kube-proxy-arg:\n  - conntrack-max-per-core=0');
    assert.equal((await f.cli(['doctor', '--k3s-version', 'v1.36.1+k3s1'])).code, 0);
  });
});
