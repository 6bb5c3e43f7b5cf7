import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellError } from '../../src/domain/errors.js';
import { installShims, openLab, renderLabInventory } from '../../src/lab/index.js';
import { makeLab, inCt, kubectl } from './helpers.js';
import { fixture as readFixture } from '../helpers/fixtures.js';

test('GIVEN a fault WHEN its command runs THEN it fires the given number of times and is consumed', async () => {
  const lab = await makeLab();
  lab.addFault({ match: { host: 'pve1', argvPrefix: ['pct', 'list'] }, effect: { exitCode: 255, stderr: 'boom\n' }, times: 2 });
  lab.addFault({
    match: { vmid: 101, argvPrefix: ['/usr/local/bin/k3s', '--version'], level: 'container' },
    effect: { stdout: 'k3s version garbage\n' },
  });
  const sh = lab.shell('pve1');
  assert.deepEqual(await sh.run(['pct', 'list']), { code: 255, stdout: '', stderr: 'boom\n' });
  assert.equal((await sh.run(['pct', 'list'])).code, 255);
  assert.equal((await sh.run(['pct', 'list'])).code, 0);
  assert.equal((await inCt(lab, 101, ['/usr/local/bin/k3s', '--version'])).stdout, 'k3s version garbage\n');
  assert.match((await inCt(lab, 101, ['/usr/local/bin/k3s', '--version'])).stdout, /^k3s version v1/);
  assert.deepEqual(lab.state.faults, []);
});

test('GIVEN hang, drop and delay faults WHEN run THEN timeout and unreachable ShellErrors, or a late answer', async () => {
  const lab = await makeLab();
  const sh = lab.shell('pve2');
  lab.addFault({ match: { contains: 'kubectl' }, effect: { hang: true } });
  await assert.rejects(
    sh.run(['pct', 'exec', '102', '--', '/usr/local/bin/kubectl', 'get', 'nodes'], { timeoutMs: 30 }),
    (e: unknown) => e instanceof ShellError && e.timedOut,
  );
  lab.addFault({ match: { host: 'pve2' }, effect: { dropConnection: true } });
  await assert.rejects(sh.run(['pct', 'list']), (e: unknown) => e instanceof ShellError && e.unreachable);
  lab.addFault({ match: { argvPrefix: ['pct', 'status'] }, effect: { delayMs: 40 } });
  const t0 = Date.now();
  assert.equal((await sh.run(['pct', 'status', '102'])).stdout, 'status: running\n');
  assert.ok(Date.now() - t0 >= 35);
});

test('GIVEN a neverReady node WHEN its k3s restarts THEN it stays NotReady', async () => {
  const lab = await makeLab();
  lab.update((s) => {
    s.clusters.lab!.nodes['k3s-worker-2']!.neverReady = true;
  });
  const n = JSON.parse((await kubectl(lab, 'get', 'node', 'k3s-worker-2', '-o', 'json')).stdout);
  assert.equal(n.status.conditions.at(-1).status, 'False');
});

test('GIVEN a lab WHEN reopened from its dir THEN changes persist; a missing lab names the dir and the fix', async () => {
  const lab = await makeLab();
  await kubectl(lab, 'cordon', 'k3s-worker-3');
  const again = await openLab(lab.dir);
  assert.equal(again.summary().find((n) => n.name === 'k3s-worker-3')!.schedulable, false);
  await assert.rejects(openLab(join(lab.dir, 'nope')), {
    name: 'UsageError',
    message: `no lab in ${join(lab.dir, 'nope')} (state.json missing)`,
    hint: 'create one with `pve-k3s lab init`',
  });
  await again.reset();
  assert.equal((await openLab(lab.dir)).summary().find((n) => n.name === 'k3s-worker-3')!.schedulable, true);
});

test('GIVEN concurrent commands from several lab handles WHEN they all mutate THEN no update is lost', async () => {
  const lab = await makeLab();
  const handles = await Promise.all([1, 2, 3].map(() => openLab(lab.dir)));
  await Promise.all(
    handles.flatMap((h, i) =>
      [0, 1, 2].map((j) => inCt(h, 100, ['/usr/local/bin/kubectl', 'annotate', 'node', 'k3s-worker-1', `k${i}-${j}=v`])),
    ),
  );
  const ann = (await openLab(lab.dir)).state.clusters.lab!.nodes['k3s-worker-1']!.annotations;
  assert.equal(Object.keys(ann).filter((k) => /^k\d-\d$/.test(k)).length, 9);
});

test('GIVEN the default lab WHEN summarised and rendered THEN nodes, hosts and the inventory are as documented', async () => {
  const lab = await makeLab();
  assert.deepEqual(
    lab.summary().map((n) => [n.name, n.host, n.vmid, n.role, n.ready]),
    [
      ['k3s-ctrl-1', 'pve1', 100, 'server', true],
      ['k3s-worker-1', 'pve1', 101, 'agent', true],
      ['pihole', 'pve1', 110, undefined, undefined],
      ['k3s-worker-2', 'pve2', 102, 'agent', true],
      ['k3s-worker-3', 'pve2', 103, 'agent', true],
    ],
  );
  assert.equal(
    renderLabInventory(lab),
    `# pve-k3s inventory for the embedded lab (pve-k3s lab init)
cluster: lab
hosts:
  pve1: { lab: true }
  pve2: { lab: true }
nodes:
  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }
  k3s-worker-1: { vmid: 101, host: pve1, role: agent }
  k3s-worker-2: { vmid: 102, host: pve2, role: agent }
  k3s-worker-3: { vmid: 103, host: pve2, role: agent }
k3s:
  channel: stable
  channelUrl: lab      # the lab's own channel server, started on 127.0.0.1 by each command
  installScriptUrl: https://get.k3s.io
lab:
  dir: ${lab.dir}
`,
  );
  assert.throws(() => lab.shell('pve9'), /has no host "pve9"/);
});

test('GIVEN three servers WHEN the lab is made THEN embedded etcd: --cluster-init on the first, the others join', async () => {
  const lab = await makeLab({ servers: 3, workers: 1, hosts: 2 });
  const unit = (await inCt(lab, 100, ['cat', '/etc/systemd/system/k3s.service'])).stdout;
  assert.match(unit, /    server \\\n\t'--cluster-init' \\\n\n$/);
  assert.match(
    (await inCt(lab, 101, ['cat', '/etc/systemd/system/k3s.service'])).stdout,
    /\t'--server' \\\n\t'https:\/\/10\.0\.20\.20:6443' \\\n/,
  );
  const table = (await inCt(lab, 102, ['/usr/local/bin/kubectl', 'get', 'nodes'])).stdout;
  assert.match(table, /k3s-server-3 +Ready +control-plane,etcd,master /);
});

test('GIVEN the channel server WHEN fetched over HTTP THEN collection, 302, 404 and injected faults', async () => {
  const lab = await makeLab();
  const srv = await lab.startChannelServer();
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/v1-release\/channels$/);
    const col = await fetch(srv.url);
    const fixture = JSON.parse(readFixture('channels.json'));
    assert.deepEqual(await col.json(), fixture);
    const st = await fetch(`${srv.url}/stable`, { redirect: 'manual' });
    assert.equal(st.status, 302);
    assert.equal(st.headers.get('location'), 'https://github.com/k3s-io/k3s/releases/tag/v1.33.5+k3s1');
    assert.equal((await fetch(`${srv.url}/v1.99`, { redirect: 'manual' })).status, 404);
    lab.update((s) => {
      s.channelFaults.push({ path: 'collection', effect: { status: 503 } });
      s.channelFaults.push({ path: 'stable', effect: { latest: 'stable' }, times: 1 });
    });
    const down = await fetch(srv.url);
    assert.equal(down.status, 503);
    assert.match(await down.text(), /<html>/);
    const bad = (await (await fetch(srv.url)).json()) as { data: Array<{ id: string; latest: string }> };
    assert.equal(bad.data.find((d) => d.id === 'stable')!.latest, 'stable');
    assert.equal(
      (await fetch(`${srv.url}/stable`, { redirect: 'manual' })).headers.get('location'),
      'https://github.com/k3s-io/k3s/releases/tag/stable',
    );
    assert.equal(
      (await fetch(`${srv.url}/stable`, { redirect: 'manual' })).headers.get('location'),
      'https://github.com/k3s-io/k3s/releases/tag/v1.33.5+k3s1',
    );
  } finally {
    await srv.close();
  }
});

test('GIVEN installed shims WHEN a real /bin/sh runs pct and pvesh THEN output, stdin and exit status pass through', async () => {
  const lab = await makeLab();
  const bin = mkdtempSync(join(tmpdir(), 'pve-k3s-shim-'));
  const [pct] = installShims(lab, bin, 'pve1');
  assert.match(readFileSync(pct!, 'utf8'), /^#!\/bin\/sh\n/);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  const list = spawnSync('/bin/sh', ['-c', 'pct list; pct exec 102 -- true; echo "status=$?"'], { env, encoding: 'utf8' });
  assert.equal(list.stdout.split('\n')[0], 'VMID       Status     Lock         Name                ');
  assert.match(list.stdout, /status=255\n$/);
  assert.equal(list.stderr, "Configuration file 'nodes/pve1/lxc/102.conf' does not exist\n");
  const viaStdin = spawnSync('/bin/sh', ['-c', 'pct exec 101 -- sh -s'], { env, encoding: 'utf8', input: 'hostname; exit 3\n' });
  assert.deepEqual([viaStdin.status, viaStdin.stdout], [3, 'k3s-worker-1\n']);
  const pvesh = spawnSync(join(bin, 'pvesh'), ['get', '/nodes/pve1/lxc', '--output-format', 'json'], { encoding: 'utf8' });
  assert.equal(pvesh.status, 0);
  assert.equal((JSON.parse(pvesh.stdout) as unknown[]).length, 3);
});

test('GIVEN a lab opened exclusive WHEN commands change it THEN state.json is written only on flush, and the change is seen after', async () => {
  const made = await makeLab();
  const lab = await openLab(made.dir, { exclusive: true });
  const file = join(made.dir, 'state.json');
  const before = readFileSync(file, 'utf8');
  assert.equal((await lab.shell('pve1').run(['pct', 'stop', '101'])).code, 0);
  assert.match((await lab.shell('pve1').run(['pct', 'status', '101'])).stdout, /status: stopped/);
  assert.equal(readFileSync(file, 'utf8'), before);
  lab.flush();
  const reopened = await openLab(made.dir);
  assert.match((await reopened.shell('pve1').run(['pct', 'status', '101'])).stdout, /status: stopped/);
});
