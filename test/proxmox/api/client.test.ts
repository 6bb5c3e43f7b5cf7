import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PveApi, PveApiError } from '../../../src/proxmox/api/client.js';
import { PveToken, readToken } from '../../../src/proxmox/api/token.js';
import { listContainersViaApi } from '../../../src/discover/api-listing.js';
import { fixture } from '../../helpers/fixtures.js';

const SECRET = '4b1f2c3d-1111-2222-3333-444455556666';
const TOKEN = `root@pam!pve-k3s=${SECRET}`;
const recorded: { url: string; auth: string | undefined }[] = [];
let server: Server;
let url: string;
let cert: string;
let fingerprint: string;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-api-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  fingerprint = new X509Certificate(cert).fingerprint256;
  const resources = JSON.parse(fixture('cluster-resources.json')) as { data: Array<Record<string, unknown>> };
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    recorded.push({ url: req.url ?? '', auth: req.headers.authorization });
    const send = (status: number, body: unknown, msg?: string) => {
      res.writeHead(status, msg ?? '', { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `PVEAPIToken=${TOKEN}`) return send(401, { data: null }, 'authentication failure');
    if (req.url === '/api2/json/cluster/resources?type=vm') return send(200, resources);
    const m = /^\/api2\/json\/nodes\/([^/]+)\/lxc\/(\d+)\/(status\/current|config)$/.exec(req.url ?? '');
    const r = resources.data.find((x) => x['node'] === m?.[1] && x['vmid'] === Number(m?.[2]));
    if (!m || !r) return send(500, { data: null }, `Configuration file 'nodes/${m?.[1]}/lxc/${m?.[2]}.conf' does not exist`);
    if (m[3] === 'config') return send(200, { data: { hostname: r['name'], tags: r['tags'], arch: 'amd64', digest: 'x' } });
    return send(200, { data: { vmid: r['vmid'], name: r['name'], status: r['status'], ...(r['lock'] ? { lock: r['lock'] } : {}) } });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const api = (tls: ConstructorParameters<typeof PveApi>[0]['tls'], token = TOKEN) =>
  new PveApi({ url, token: PveToken.parse(token, 'test'), tls, timeoutMs: 5000 });

test('pinned fingerprint: accepted, the token header recorded, the containers listed with status and config', async () => {
  recorded.length = 0;
  const client = api({ kind: 'fingerprint', sha256: fingerprint.replace(/:/g, '').toLowerCase() });
  const all = await listContainersViaApi(client, (c) => (c.tags ?? []).includes('k3s'));
  assert.deepEqual(
    all.map((c) => `${c.vmid} ${c.name} ${c.node} ${c.status} ${c.lock ?? '-'}`),
    [
      '100 k3s-ctrl-1 pve1 running -',
      '101 k3s-worker-1 pve1 running -',
      '102 k3s-worker-2 pve2 running -',
      '103 k3s-worker-3 pve2 stopped backup',
      '110 pihole pve1 running -',
    ],
  );
  assert.equal(client.requests, 9);
  assert.equal(recorded[0]?.url, '/api2/json/cluster/resources?type=vm');
  assert.ok(recorded.every((r) => r.auth === `PVEAPIToken=root@pam!pve-k3s=${SECRET}`));
  assert.ok(!recorded.some((r) => r.url.includes('/110/')), 'untagged containers are not read further');
});

test('a wrong pin is refused before anything (the token) is sent', async () => {
  recorded.length = 0;
  const wrong = 'AA:'.repeat(31) + 'AA';
  await assert.rejects(api({ kind: 'fingerprint', sha256: wrong }).clusterResources(), (e: unknown) => {
    assert.ok(e instanceof PveApiError);
    assert.equal(e.reason, 'tls');
    assert.equal(e.message, `${url}: the server's certificate fingerprint ${fingerprint} is not the pinned one`);
    return true;
  });
  assert.equal(recorded.length, 0);
});

test('CA file: accepted; system CAs: a self-signed certificate is refused; insecure only when asked', async () => {
  recorded.length = 0;
  assert.equal((await api({ kind: 'ca', pem: cert }).clusterResources()).length, 6);
  await assert.rejects(api({ kind: 'system' }).clusterResources(), (e: unknown) => {
    assert.ok(e instanceof PveApiError);
    assert.equal(e.message, `${url}: the server's certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)`);
    assert.match(e.hint ?? '', /--ca FILE \(\/etc\/pve\/pve-root-ca\.pem on any node\)/);
    return true;
  });
  assert.equal(recorded.length, 1);
  assert.equal((await api({ kind: 'insecure' }).clusterResources()).length, 6);
});

test('401: names the token id, never the secret', async () => {
  const other = 'root@pam!pve-k3s=00000000-0000-0000-0000-000000000000';
  await assert.rejects(api({ kind: 'insecure' }, other).clusterResources(), (e: unknown) => {
    assert.ok(e instanceof PveApiError);
    assert.equal(e.status, 401);
    assert.equal(e.message, `${url}: GET /cluster/resources: 401 authentication failure (token root@pam!pve-k3s)`);
    assert.ok(!JSON.stringify({ m: e.message, h: e.hint, d: e.detail }).includes('00000000-0000'));
    return true;
  });
});

test('tokens: from a file or $PVE_API_TOKEN, never shown; a malformed one does not echo its value', async () => {
  const t = PveToken.parse(TOKEN, 'x');
  assert.equal(String(t), 'root@pam!pve-k3s=<secret>');
  assert.equal(JSON.stringify({ t }), '{"t":"root@pam!pve-k3s=<secret>"}');
  assert.equal((await readToken({ env: { PVE_API_TOKEN: ` ${TOKEN}\n` } })).id, 'root@pam!pve-k3s');
  await assert.rejects(readToken({ env: {} }), /^UsageError: no API token: set PVE_API_TOKEN or give --api-token-file FILE$/);
  await assert.rejects(readToken({ env: { PVE_API_TOKEN: 'root@pam:hunter2' } }), (e: Error) => {
    assert.equal(e.message, 'the API token in $PVE_API_TOKEN is not of the form USER@REALM!TOKENID=UUID');
    return true;
  });
});
