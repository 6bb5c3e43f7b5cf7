import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab, inCt } from './helpers.js';
import { fixture as readFixture } from '../helpers/fixtures.js';

const fixture = (f: string) => readFixture(f);

test('GIVEN the fixture rows WHEN the lab holds the same containers THEN pct list is byte-identical', async () => {
  const lab = await makeLab({ hosts: 1, workers: 3 });
  lab.state.hosts[0]?.containers.forEach((c) => {
    if (c.vmid === 103) {
      c.status = 'stopped';
      c.lock = 'backup';
    }
  });
  lab.save();
  const r = await lab.shell('pve1').run(['pct', 'list']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, fixture('pct-list.txt').replace('k3s-worker-3        \n', 'k3s-worker-3        \n'));
});

test('GIVEN a host without containers WHEN pct list THEN it prints nothing at all', async () => {
  const lab = await makeLab({ hosts: 2, workers: 1 });
  lab.state.hosts[1]!.containers = [];
  lab.save();
  assert.deepEqual(await lab.shell('pve2').run(['pct', 'list']), { code: 0, stdout: '', stderr: '' });
});

test('GIVEN a k3s container WHEN pct config THEN it matches the fixture for the same node', async () => {
  const lab = await makeLab();
  const r = await lab.shell('pve1').run(['pct', 'config', '101']);
  const mine = r.stdout.replace(/hwaddr=[0-9A-F:]+/, 'hwaddr=X');
  assert.equal(mine, fixture('pct-config.txt').replace(/hwaddr=[0-9A-F:]+/, 'hwaddr=X'));
  assert.equal((await lab.shell('pve1').run(['pct', 'status', '101'])).stdout, 'status: running\n');
});

test("GIVEN pct errors WHEN the vmid is elsewhere or stopped THEN exit 255 with pct's messages", async () => {
  const lab = await makeLab();
  assert.deepEqual(await lab.shell('pve1').run(['pct', 'exec', '102', '--', 'true']), {
    code: 255,
    stdout: '',
    stderr: "Configuration file 'nodes/pve1/lxc/102.conf' does not exist\n",
  });
  await lab.shell('pve2').run(['pct', 'stop', '103']);
  assert.deepEqual(await lab.shell('pve2').run(['pct', 'exec', '103', '--', 'true']), {
    code: 255,
    stdout: '',
    stderr: "container '103' not running!\n",
  });
  assert.deepEqual(await lab.shell('pve1').run(['foo']), { code: 127, stdout: '', stderr: 'sh: 1: foo: not found\n' });
});

test('GIVEN pct exec WHEN a bare k3s/kubectl is called THEN 127 (PATH lacks /usr/local/bin); full paths work', async () => {
  const lab = await makeLab();
  const bare = await inCt(lab, 100, ['kubectl', 'get', 'nodes']);
  assert.equal(bare.code, 127);
  assert.match(bare.stderr, /Failed to exec "kubectl"/);
  const v = await inCt(lab, 101, ['/usr/local/bin/k3s', '--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^k3s version v1\.33\.3\+k3s1 \([0-9a-f]{8}\)\ngo version go[0-9.]+\n$/);
  const inSh = await inCt(lab, 101, ['sh', '-c', 'k3s --version']);
  assert.deepEqual(inSh, { code: 127, stdout: '', stderr: 'sh: 1: k3s: not found\n' });
});

test('GIVEN snapshots WHEN listed, rolled back and deleted THEN the tree matches the fixture format', async () => {
  const lab = await makeLab();
  const sh = lab.shell('pve1');
  assert.equal(
    (await sh.run(['pct', 'snapshot', '101', 'pre-k3s-v1-31-2-k3s1', '--description', 'before k3s upgrade to v1.31.2+k3s1'])).code,
    0,
  );
  const list = (await sh.run(['pct', 'listsnapshot', '101'])).stdout;
  const shape = (t: string) => t.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'TIME');
  assert.equal(shape(list), shape(fixture('pct-listsnapshot.txt')));
  await inCt(lab, 101, ['rm', '/etc/hostname']);
  assert.equal((await sh.run(['pct', 'rollback', '101', 'pre-k3s-v1-31-2-k3s1'])).code, 0);
  assert.equal((await sh.run(['pct', 'status', '101'])).stdout, 'status: stopped\n');
  await sh.run(['pct', 'start', '101']);
  assert.equal((await inCt(lab, 101, ['cat', '/etc/hostname'])).stdout, 'k3s-worker-1\n');
  assert.equal((await sh.run(['pct', 'delsnapshot', '101', 'pre-k3s-v1-31-2-k3s1'])).code, 0);
  lab.update((s) => {
    s.hosts[0]!.containers[0]!.switches.snapshotsUnsupported = true;
  });
  assert.deepEqual(await sh.run(['pct', 'snapshot', '100', 'x1']), {
    code: 255,
    stdout: '',
    stderr: 'snapshot feature is not available\n',
  });
});

test('GIVEN pvesh WHEN cluster resources are asked THEN every lab container appears in the REST shape', async () => {
  const lab = await makeLab();
  const r = await lab.shell('pve2').run(['pvesh', 'get', '/cluster/resources', '--type', 'vm', '--output-format', 'json']);
  const data = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  const ref = (JSON.parse(fixture('cluster-resources.json')) as { data: Array<Record<string, unknown>> }).data[0]!;
  assert.deepEqual(
    data.map((d) => d.vmid),
    [100, 101, 110, 102, 103],
  );
  const first = data[0]!;
  assert.deepEqual(Object.keys(first).sort(), Object.keys(ref).sort());
  assert.deepEqual(
    { node: first.node, name: first.name, type: first.type, tags: first.tags, id: first.id },
    { node: 'pve1', name: 'k3s-ctrl-1', type: 'lxc', tags: 'k3s;server', id: 'lxc/100' },
  );
  const lxc = JSON.parse((await lab.shell('pve1').run(['pvesh', 'get', '/nodes/pve2/lxc', '--output-format', 'json'])).stdout) as Array<{
    vmid: number;
  }>;
  assert.deepEqual(
    lxc.map((c) => c.vmid),
    [102, 103],
  );
});

test('GIVEN pct push and pull WHEN the target dir exists or not THEN files move, and a missing dir fails quietly with 0', async () => {
  const lab = await makeLab();
  lab.update((s) => {
    s.hosts[0]!.fs['/root/f'] = { content: 'data\n', mode: 0o644 };
  });
  const sh = lab.shell('pve1');
  assert.equal((await sh.run(['pct', 'push', '101', '/root/f', '/tmp/f'])).code, 0);
  assert.equal((await inCt(lab, 101, ['cat', '/tmp/f'])).stdout, 'data\n');
  assert.equal((await sh.run(['pct', 'push', '101', '/root/f', '/nodir/f'])).code, 0);
  assert.equal((await inCt(lab, 101, ['test', '-e', '/nodir/f'])).code, 1);
  assert.equal((await sh.run(['pct', 'pull', '101', '/etc/hostname', '/root/h'])).code, 0);
  assert.equal((await sh.run(['cat', '/root/h'])).stdout, 'k3s-worker-1\n');
});
