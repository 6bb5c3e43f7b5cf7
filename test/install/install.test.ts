/** pve-k3s install on the lab: fresh single server from a bare lab, HA, idempotence, repairs, failures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliInProcess, labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { labBreak, renderConf } from '../../src/lab/index.js';
import type { ContainerState, LabState } from '../../src/lab/index.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

function ct(s: LabState, vmid: number): ContainerState {
  const c = s.hosts.flatMap((h) => h.containers).find((x) => x.vmid === vmid);
  assert.ok(c, `container ${vmid}`);
  return c;
}

function allReady(f: LabFixture, names: string[]) {
  const sum = f.lab.summary().filter((n) => names.includes(n.name));
  assert.deepEqual(
    sum.map((n) => [n.name, n.status, n.ready]),
    names.map((n) => [n, 'running', true]),
  );
}

const NOTHING = 'Nothing to do: the 2 container(s) of lab are configured for k3s and every node runs k3s.\n';

test('GIVEN a bare lab (one server, one worker whose container is missing) WHEN install runs twice THEN the first creates, configures and installs, the second changes nothing and says so', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    assert.equal(
      f.lab.state.hosts[0]?.containers.some((c) => c.vmid === 101),
      false,
    );
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Install plan for cluster lab: k3s v1\.33\.5\+k3s1 \(channel stable\)\n/);
    assert.match(r.stdout, /\n {2}k3s-worker-1: creating container 101 on pve1\n/);
    assert.match(r.stdout, /\n {2}k3s-ctrl-1: installing k3s v1\.33\.5\+k3s1 \(first server\)\n/);
    assert.match(r.stdout, /\n {2}k3s-worker-1: installing k3s v1\.33\.5\+k3s1 \(agent of https:\/\/10\.0\.20\.20:6443\)\n/);
    assert.match(
      r.stdout,
      /\nInstalled lab: 1 container\(s\) created, 1 reconfigured, k3s v1\.33\.5\+k3s1 installed on 2 node\(s\) \(\d+\.\d+s\)\.\n/,
    );
    allReady(f, ['k3s-ctrl-1', 'k3s-worker-1']);
    const s = f.lab.state;
    const created = ct(s, 101);
    assert.deepEqual(
      ['unprivileged', 'features', 'swap'].map((k) => created.config.find(([x]) => x === k)?.[1]),
      ['0', 'nesting=1', '0'],
    );
    assert.equal(created.config.find(([k]) => k === 'tags')?.[1], 'k3s;agent');
    assert.ok(created.fs['/dev/kmsg'], '/dev/kmsg exists after boot');
    assert.ok(created.fs['/etc/systemd/system/pve-k3s-rshared.service']);
    // The first server's config keeps its [fresh] snapshot section; the lxc.* lines are above it.
    const conf = renderConf(ct(s, 100));
    assert.ok(conf.indexOf('lxc.apparmor.profile: unconfined') < conf.indexOf('[fresh]'));
    assert.doesNotMatch(conf.slice(conf.indexOf('[fresh]')), /^lxc\./m);
    const started = s.hosts.flatMap((h) => h.containers).map((c) => [c.vmid, c.startedAt]);

    const again = await f.cli(['install', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.endsWith(`\n${NOTHING}`), again.stdout);
    assert.match(again.stdout, /k3s: {7}installed \(v1\.33\.5\+k3s1\): no change\n/);
    assert.deepEqual(
      f.lab.state.hosts.flatMap((h) => h.containers).map((c) => [c.vmid, c.startedAt]),
      started,
    );
  });
});

test('GIVEN a bare lab with three servers WHEN install runs THEN the first has --cluster-init, the others join it one at a time, then the agent; all Ready', async () => {
  await withLab({ bare: true, servers: 3, workers: 1, hosts: 2 }, async (f) => {
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /k3s: {7}install v1\.33\.5\+k3s1, first server \(--cluster-init: embedded etcd for several servers\)\n/);
    const order = [...r.stdout.matchAll(/ {2}(\S+): installing k3s v1\.33\.5\+k3s1 \(([^)]*)\)/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(order, [
      'k3s-server-1 first server, --cluster-init',
      'k3s-server-2 joining https://10.0.20.20:6443',
      'k3s-server-3 joining https://10.0.20.20:6443',
      'k3s-worker-1 agent of https://10.0.20.20:6443',
    ]);
    allReady(f, ['k3s-server-1', 'k3s-server-2', 'k3s-server-3', 'k3s-worker-1']);
    const s = f.lab.state;
    assert.match(ct(s, 100).fs['/etc/systemd/system/k3s.service']?.content ?? '', /'--cluster-init'/);
    assert.match(ct(s, 101).fs['/etc/systemd/system/k3s.service']?.content ?? '', /'--server' \\\n\t'https:\/\/10\.0\.20\.20:6443'/);
    assert.deepEqual(
      f.lab
        .summary()
        .filter((n) => n.role === 'server')
        .map((n) => n.name),
      ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'],
    );
  });
});

test('GIVEN a running cluster whose worker lacks lxc.* lines WHEN install runs THEN only that container is fixed and restarted, nothing is reinstalled', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => labBreak(s, { node: 'k3s-worker-1', what: 'lxc-missing' }));
    const before = f.lab.state.hosts.flatMap((h) => h.containers).map((c) => [c.vmid, c.startedAt, c.k3s.services]);
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Install plan for cluster lab: k3s v1\.33\.3\+k3s1 \(the cluster \(k3s-ctrl-1\)\)\n/);
    assert.match(
      r.stdout,
      / {2}k3s-worker-1 \(agent, CT 101 on pve1\)\n {4}container: lxc\.apparmor\.profile: unconfined, lxc\.cap\.drop:; restart the container\n/,
    );
    assert.match(r.stdout, /Installed lab: 0 container\(s\) created, 1 reconfigured, k3s v1\.33\.3\+k3s1 installed on 0 node\(s\)/);
    const after = f.lab.state.hosts.flatMap((h) => h.containers).map((c) => [c.vmid, c.startedAt, c.k3s.services]);
    const changed = after.filter((a, i) => JSON.stringify(a[1]) !== JSON.stringify(before[i]?.[1])).map((a) => a[0]);
    assert.deepEqual(changed, [101]);
    const conf = renderConf(ct(f.lab.state, 101));
    assert.match(conf, /^lxc\.apparmor\.profile: unconfined$/m);
    assert.match(conf, /^lxc\.cap\.drop: ?$/m);
    const again = await f.cli(['install', '--yes']);
    assert.ok(again.stdout.endsWith('\nNothing to do: the 4 container(s) of lab are configured for k3s and every node runs k3s.\n'));
  });
});

test('GIVEN the lxc.* lines only below a [snapshot] section WHEN install runs THEN they are added above it and the snapshot section stays byte for byte', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      labBreak(s, { node: 'k3s-worker-2', what: 'below-snapshot' });
      labBreak(s, { node: 'k3s-worker-2', what: 'cgroup-v1' });
    });
    const before = renderConf(ct(f.lab.state, 102));
    const section = before.slice(before.indexOf('[before-k3s]'));
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /k3s-worker-2: adding the lxc\.\* lines k3s needs to \/etc\/pve\/lxc\/102\.conf \(above its \[snapshot\] sections\)\n/,
    );
    assert.match(r.stdout, /cgroup v1 keys renamed to cgroup2: lxc\.cgroup\.devices\.allow/);
    assert.match(r.stdout, /\(found only below a \[snapshot\] section\)/);
    const after = renderConf(ct(f.lab.state, 102));
    assert.equal(after.slice(after.indexOf('[before-k3s]')), section);
    const head = after.slice(0, after.indexOf('[before-k3s]'));
    for (const l of [
      'lxc.apparmor.profile: unconfined',
      'lxc.cgroup2.devices.allow: a',
      'lxc.cap.drop:',
      'lxc.mount.auto: "proc:rw sys:rw"',
      'lxc.mount.entry: /dev/kmsg dev/kmsg none defaults,bind,create=file',
    ]) {
      assert.ok(
        head
          .split('\n')
          .map((x) => x.trimEnd())
          .includes(l),
        `${l} in\n${head}`,
      );
    }
    assert.doesNotMatch(head, /^lxc\.cgroup\./m);
  });
});

test('GIVEN the install script fails on one worker WHEN install runs THEN it stops with a clear error, the nodes before are Ready, the one after untouched; a second run finishes', async () => {
  await withLab({ bare: true, servers: 1, workers: 3, hosts: 2 }, async (f) => {
    f.lab.addFault({
      match: { vmid: 102, level: 'container', argvPrefix: ['curl'] },
      effect: { exitCode: 22, stderr: 'curl: (22) The requested URL returned error: 503\n' },
    });
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: the k3s install script failed in k3s-worker-2 (exit 22): curl: (22) The requested URL returned error: 503\n  nodes before k3s-worker-2 are done and the ones after it were not touched; fix the cause and run pve-k3s install again (it continues where it stopped)\n',
    );
    allReady(f, ['k3s-ctrl-1', 'k3s-worker-1']);
    const s = f.lab.state;
    assert.equal(ct(s, 102).k3s.binaryVersion, undefined);
    assert.equal(ct(s, 103).k3s.binaryVersion, undefined);
    const again = await f.cli(['install', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /k3s-ctrl-1 \(server, CT 100 on pve1\)\n {4}container: configured for k3s \(no change\)\n {4}k3s: {7}installed \(v1\.33\.5\+k3s1\): no change\n/,
    );
    assert.match(again.stdout, /installed on 2 node\(s\)/);
    allReady(f, ['k3s-ctrl-1', 'k3s-worker-1', 'k3s-worker-2', 'k3s-worker-3']);
  });
});

test('GIVEN a host without overlay and br_netfilter WHEN install runs THEN it refuses before any change and says what to load', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    f.lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'modules' }));
    const before = JSON.stringify(f.lab.state.hosts);
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "error: host pve1 lacks kernel modules k3s needs: overlay, br_netfilter\n  on pve1: modprobe -a overlay br_netfilter && printf '%s\\n' overlay br_netfilter > /etc/modules-load.d/k3s.conf (or pve-k3s doctor --fix); then run install again\n",
    );
    assert.equal(JSON.stringify(f.lab.state.hosts), before);
  });
});

test('GIVEN a host whose /proc/modules cannot be read WHEN install runs THEN /sys/module answers and the install goes on', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    f.lab.update((s) => {
      s.maintenance = { ...s.maintenance, unreadableModules: { pve1: ['proc'] } };
    });
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^  Proxmox host\(s\) pve1: kernel modules overlay and br_netfilter loaded$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /lacks kernel modules|warning: host/);
    allReady(f, ['k3s-ctrl-1', 'k3s-worker-1']);
  });
});

test('GIVEN a host where neither /proc/modules nor /sys/module can be read WHEN install runs THEN a warning, not a refusal', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    f.lab.update((s) => {
      s.maintenance = { ...s.maintenance, unreadableModules: { pve1: ['proc', 'sys'] } };
    });
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^  warning: host pve1: cannot tell whether the kernel modules overlay and br_netfilter are loaded \(neither \/proc\/modules nor \/sys\/module can be read\); k3s fails to start without them$/m,
    );
    assert.doesNotMatch(r.stdout, /Proxmox host\(s\) pve1: kernel modules/);
  });
});

test('GIVEN a host without the modules but no node to install on it WHEN install runs THEN it is not refused for that host', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 2 }, async (f) => {
    assert.equal((await f.cli(['install', '--yes'])).code, 0);
    // Every node is installed; pve2's modules go missing afterwards: a second install has nothing to do there.
    f.lab.update((s) => {
      s.maintenance = { ...s.maintenance, missingModules: { pve2: ['overlay', 'br_netfilter'] } };
    });
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /lacks kernel modules/);
  });
});

test('GIVEN an unprivileged container WHEN install runs THEN it is refused with the way out, nothing changed', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    f.lab.update((s) => labBreak(s, { node: 'k3s-ctrl-1', what: 'unprivileged' }));
    const r = await f.cli(['install', '--yes']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: k3s-ctrl-1: container 100 is unprivileged; k3s needs a privileged container\n  recreate it privileged (restore a backup with pct restore 100 <archive> --unprivileged 0, or destroy it and let pve-k3s install create it)\n',
    );
    assert.equal(
      f.lab.state.hosts[0]?.containers.some((c) => c.vmid === 101),
      false,
    );
  });
});

test('GIVEN no terminal and no --yes WHEN install runs THEN it shows the plan and refuses; --dry-run changes nothing', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    const r = await f.cli(['install']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^Install plan for cluster lab/);
    assert.equal(
      r.stderr,
      'error: refusing to install without confirmation: not running in a terminal\n  review the plan above (--dry-run shows it alone) and pass --yes\n',
    );
    const d = await f.cli(['install', '--dry-run']);
    assert.equal(d.code, 0);
    assert.ok(d.stdout.endsWith('Dry run: nothing was changed.\n'));
    assert.equal(
      f.lab.state.hosts[0]?.containers.some((c) => c.vmid === 101),
      false,
    );
  });
});
