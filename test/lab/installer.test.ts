import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab, inCt, kubectl, sleep } from './helpers.js';
import type { Lab } from '../../src/lab/index.js';
import { fixture as readFixture } from '../helpers/fixtures.js';

const fixture = (f: string) => readFixture(`install-sh/${f}`);
const install = (lab: Lab, vmid: number, envAndArgs: string) =>
  inCt(lab, vmid, ['sh', '-c', `curl -sfL https://get.k3s.io | ${envAndArgs}`]);
const cat = async (lab: Lab, vmid: number, f: string) => (await inCt(lab, vmid, ['cat', f])).stdout;
const nodeJson = async (lab: Lab, name: string) => JSON.parse((await kubectl(lab, 'get', 'node', name, '-o', 'json')).stdout);

test("GIVEN a fresh lab WHEN the installer's files are read THEN they equal the fixtures", async () => {
  const lab = await makeLab();
  assert.equal(await cat(lab, 100, '/etc/systemd/system/k3s.service'), fixture('k3s.service'));
  assert.equal(await cat(lab, 101, '/etc/systemd/system/k3s-agent.service'), fixture('k3s-agent.service'));
  const env = await cat(lab, 101, '/etc/systemd/system/k3s-agent.service.env');
  assert.match(env, /^K3S_TOKEN='K10[0-9a-f]{64}::server:[0-9a-f]{32}'\nK3S_URL='https:\/\/10\.0\.20\.20:6443'\n$/);
  assert.equal(lab.state.hosts[0]!.containers.find((c) => c.vmid === 101)!.fs['/etc/systemd/system/k3s-agent.service.env']!.mode, 0o600);
});

test('GIVEN an agent WHEN re-installed with its role, URL and token re-supplied THEN it stays an agent at the new version', async () => {
  const lab = await makeLab();
  const token = lab.state.token;
  const r = await install(
    lab,
    101,
    `INSTALL_K3S_VERSION=v1.33.5+k3s1 K3S_URL=https://10.0.20.20:6443 K3S_TOKEN='${token}' sh -s - agent --node-label tier=web`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^\[INFO\]  Using v1\.33\.5\+k3s1 as release\n\[INFO\]  Downloading hash https:\/\/github\.com\/k3s-io\/k3s\/releases\/download\/v1\.33\.5\+k3s1\/sha256sum-amd64\.txt\n/,
  );
  assert.match(r.stdout, /\[INFO\]  systemd: Starting k3s-agent\n$/);
  assert.match(
    await cat(lab, 101, '/etc/systemd/system/k3s-agent.service'),
    /ExecStart=\/usr\/local\/bin\/k3s \\\n    agent \\\n\t'--node-label' \\\n\t'tier=web' \\\n\n$/,
  );
  assert.equal(await cat(lab, 101, '/etc/systemd/system/k3s.service'), '');
  await sleep(70);
  const n = await nodeJson(lab, 'k3s-worker-1');
  assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.33.5+k3s1');
  assert.equal(n.status.conditions.at(-1).status, 'True');
  assert.equal(
    n.metadata.annotations['k3s.io/node-args'],
    '["agent", "--node-label", "tier=web", "--server", "https://10.0.20.20:6443", "--token", "********"]',
  );
});

test('GIVEN an agent WHEN the bare script runs (no K3S_URL) THEN a server is installed beside it and the node breaks', async () => {
  const lab = await makeLab();
  const r = await install(lab, 101, 'INSTALL_K3S_VERSION=v1.33.5+k3s1 sh -s -');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /systemd: Starting k3s\n$/);
  assert.equal(await cat(lab, 101, '/etc/systemd/system/k3s.service'), fixture('k3s.service'));
  await sleep(70);
  const n = await nodeJson(lab, 'k3s-worker-1');
  assert.equal(n.status.conditions.at(-1).status, 'False');
  assert.equal(n.metadata.annotations['k3s.io/node-args'], '["server"]');
  const rogue = JSON.parse((await inCt(lab, 101, ['/usr/local/bin/kubectl', 'get', 'nodes', '-o', 'json'])).stdout);
  assert.deepEqual(
    rogue.items.map((x: any) => x.metadata.name),
    ['k3s-worker-1'],
    'a second, one-node cluster',
  );
  assert.equal(lab.summary().find((x) => x.name === 'k3s-worker-1')!.ready, false);
});

test('GIVEN an install WHEN env vars are not re-supplied THEN the env file is rewritten from the current env only', async () => {
  const lab = await makeLab();
  const token = lab.state.token;
  const r = await install(lab, 102, `K3S_TOKEN='${token}' INSTALL_K3S_VERSION=v1.33.3+k3s1 sh -s - agent --server https://10.0.20.20:6443`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await cat(lab, 102, '/etc/systemd/system/k3s-agent.service.env'), `K3S_TOKEN='${token}'\n`);
  assert.match(r.stdout, /Skipping binary downloaded, installed k3s matches hash/);
  assert.match(r.stdout, /systemd: Starting k3s-agent/, 'the env and unit changed, so it restarts');
});

test('GIVEN nothing changes WHEN the same install runs again THEN no restart', async () => {
  const lab = await makeLab();
  const token = lab.state.token;
  const r = await install(lab, 101, `INSTALL_K3S_VERSION=v1.33.3+k3s1 K3S_URL=https://10.0.20.20:6443 K3S_TOKEN='${token}' sh -s -`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[INFO\]  No change detected so skipping service start\n$/);
  const forced = await install(
    lab,
    101,
    `INSTALL_K3S_FORCE_RESTART=true INSTALL_K3S_VERSION=v1.33.3+k3s1 K3S_URL=https://10.0.20.20:6443 K3S_TOKEN='${token}' sh -s -`,
  );
  assert.match(forced.stdout, /systemd: Starting k3s-agent\n$/);
});

test("GIVEN bad inputs WHEN installing THEN upstream's fatal messages", async () => {
  const lab = await makeLab();
  assert.deepEqual(await install(lab, 101, 'INSTALL_K3S_VERSION=v1.33.99+k3s1 sh -s - agent'), {
    code: 1,
    stdout:
      '[INFO]  Using v1.33.99+k3s1 as release\n[INFO]  Downloading hash https://github.com/k3s-io/k3s/releases/download/v1.33.99+k3s1/sha256sum-amd64.txt\n',
    stderr: '[ERROR]  Download failed\n',
  });
  const noToken = await install(lab, 101, 'K3S_URL=https://10.0.20.20:6443 sh -s -');
  assert.equal(
    noToken.stderr,
    "[ERROR]  Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined.\n",
  );
  const http = await install(lab, 101, 'K3S_URL=http://10.0.20.20:6443 K3S_TOKEN=x sh -s -');
  assert.equal(http.stderr, '[ERROR]  Only https:// URLs are supported for K3S_URL (have http://10.0.20.20:6443)\n');
  lab.update((s) => {
    s.hosts[0]!.containers.find((c) => c.vmid === 101)!.switches.hashMismatch = true;
  });
  const bad = await install(lab, 101, 'INSTALL_K3S_VERSION=v1.33.5+k3s1 sh -s - agent');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^\[ERROR\]  Download sha256 does not match [0-9a-f]{64}, got [0-9a-f]{64}\n$/);
  const curlBad = await inCt(lab, 101, ['sh', '-c', 'curl -sfL https://get.k3s.io/nope | sh -s -']);
  assert.equal(curlBad.code, 0, "the pipeline status is sh's, as without pipefail");
  const curlOnly = await inCt(lab, 101, ['curl', '-sfL', 'https://get.k3s.io/nope']);
  assert.equal(curlOnly.code, 22);
});

test('GIVEN the channel WHEN no version is pinned THEN the installer resolves stable; the -o file form works too', async () => {
  const lab = await makeLab();
  const token = lab.state.token;
  const r = await inCt(lab, 102, [
    'sh',
    '-c',
    `curl -sfL https://get.k3s.io -o /tmp/install.sh && K3S_URL=https://10.0.20.20:6443 K3S_TOKEN='${token}' INSTALL_K3S_SKIP_START=true sh /tmp/install.sh`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\[INFO\]  Finding release for channel stable\n\[INFO\]  Using v1\.33\.5\+k3s1 as release\n/);
  assert.doesNotMatch(r.stdout, /Starting/);
  assert.match((await inCt(lab, 102, ['/usr/local/bin/k3s', '--version'])).stdout, /v1\.33\.5\+k3s1/);
  assert.equal((await nodeJson(lab, 'k3s-worker-2')).status.nodeInfo.kubeletVersion, 'v1.33.3+k3s1', 'not restarted: old kubelet');
});
