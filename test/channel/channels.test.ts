import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseChannels, channelLatest, latestOfMinor } from '../../src/channel/channels.js';
import { fetchChannels } from '../../src/channel/client.js';
import { ChannelError } from '../../src/domain/errors.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initLab } from '../../src/lab/index.js';
import { fixture } from '../helpers/fixtures.js';

const URL_ = 'https://update.k3s.io/v1-release/channels';

test('GIVEN the real channels collection WHEN parsed THEN every channel resolves, per-minor ones included', () => {
  const set = parseChannels(fixture('channels.json'), URL_);
  assert.equal(channelLatest(set, 'stable').raw, 'v1.33.5+k3s1');
  assert.equal(channelLatest(set, 'latest').raw, 'v1.34.1+k3s1');
  assert.equal(channelLatest(set, 'testing').raw, 'v1.34.2-rc1+k3s1');
  assert.equal(channelLatest(set, 'v1.30').raw, 'v1.30.14+k3s2');
  assert.equal(latestOfMinor(set, { major: 1, minor: 32 })?.raw, 'v1.32.9+k3s1');
  assert.equal(latestOfMinor(set, { major: 1, minor: 29 }), undefined);
});

test('GIVEN an unknown channel WHEN resolved THEN the error lists the known ones', () => {
  const set = parseChannels(fixture('channels.json'), URL_);
  assert.throws(
    () => channelLatest(set, 'stabel'),
    (e: ChannelError) => {
      assert.equal(e.message, `channel "stabel" does not exist on ${URL_}`);
      assert.match(e.hint ?? '', /known channels: stable, latest, testing, v1\.30/);
      return true;
    },
  );
});

test('GIVEN a channel whose latest is not a version (the "stable" outage) WHEN resolved THEN it is refused, never used', () => {
  const body = JSON.stringify({
    type: 'collection',
    data: [
      { id: 'stable', name: 'stable', latest: 'stable' },
      { id: 'latest', latest: 'v1.34.1+k3s1' },
    ],
  });
  const set = parseChannels(body, URL_);
  assert.throws(
    () => channelLatest(set, 'stable'),
    /channel "stable" on .* has latest "stable", which is not a k3s version; refusing to use it/,
  );
  assert.equal(channelLatest(set, 'latest').raw, 'v1.34.1+k3s1');
});

test('GIVEN HTML, garbage or a wrong shape WHEN parsed THEN a ChannelError names the URL', () => {
  assert.throws(
    () => parseChannels('<html><body>Bad gateway</body></html>', URL_),
    new RegExp(`channel server ${URL_} answered an HTML page, not the channels collection`),
  );
  assert.throws(() => parseChannels('garbage', URL_), /answered something that is not JSON/);
  assert.throws(() => parseChannels('{"type":"collection"}', URL_), /answered JSON without a "data" list of channels/);
  assert.throws(() => parseChannels('[1,2]', URL_), /without a "data" list/);
});

test('GIVEN the old resourceType spelling or entries keyed by name WHEN parsed THEN they still resolve', () => {
  const body = JSON.stringify({ resourceType: 'channel', data: [{ name: 'stable', latest: 'v1.31.2+k3s1' }] });
  assert.equal(channelLatest(parseChannels(body, URL_), 'stable').raw, 'v1.31.2+k3s1');
});

test('GIVEN a channel server that stalls mid-body WHEN fetched THEN the body read is under the same timeout and says so', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
    res.write('{"type":"collection","data":[');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1-release/channels`;
  try {
    const t0 = Date.now();
    await assert.rejects(fetchChannels(url, { timeoutMs: 2000 }), (e: ChannelError) => {
      assert.ok(e instanceof ChannelError);
      assert.equal(e.message, `channel server ${url} stopped sending its answer: not complete after 2s`);
      assert.equal(e.hint, 'check your network, set k3s.channelUrl to a reachable mirror, or pin a version with --k3s-version');
      return true;
    });
    assert.ok(Date.now() - t0 < 5_000, 'cut off at the timeout, not left hanging');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("GIVEN the lab's channel server stalling mid-body (a fault) WHEN fetched THEN the same error", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-channel-'));
  const lab = await initLab({ dir });
  lab.update((s) => {
    s.channelFaults.push({ path: 'collection', effect: { stallAfterBytes: 40 } });
  });
  const srv = await lab.startChannelServer();
  try {
    await assert.rejects(fetchChannels(srv.url, { timeoutMs: 2000 }), {
      name: 'ChannelError',
      message: `channel server ${srv.url} stopped sending its answer: not complete after 2s`,
    });
    // Consumed: the next fetch reads the whole collection.
    assert.equal(channelLatest(await fetchChannels(srv.url), 'stable').raw, 'v1.33.5+k3s1');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GIVEN an answer bigger than the cap WHEN fetched THEN it is refused without being read to its end', async () => {
  const big = 'x'.repeat(64 * 1024);
  let sent = 0;
  const server = createServer((req, res) => {
    res.writeHead(200, req.url?.endsWith('/declared') ? { 'content-length': String(2 * 1024 * 1024) } : {});
    // Chunked, without end: the client must stop reading at the cap.
    const pump = () => {
      while (sent < 8 * 1024 * 1024 && res.write(big)) sent += big.length;
    };
    res.on('drain', pump);
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1-release/channels`;
  try {
    await assert.rejects(fetchChannels(base, { maxBytes: 256 * 1024 }), {
      name: 'ChannelError',
      message: `channel server ${base} answered more than 256 KiB: that is not the channels collection`,
    });
    assert.ok(sent < 8 * 1024 * 1024, 'it stopped reading');
    await assert.rejects(fetchChannels(`${base}/declared`), {
      message: `channel server ${base}/declared answered more than 1 MiB: that is not the channels collection`,
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: (path: string) => { status: number; body: string; type?: string; location?: string }) {
  const server = createServer((req, res) => {
    const r = handler(req.url ?? '/');
    res.writeHead(r.status, { 'content-type': r.type ?? 'application/json', ...(r.location ? { location: r.location } : {}) });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1-release/channels`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

test('GIVEN a channel server on loopback WHEN fetched THEN one GET returns every channel', async () => {
  let gets = 0;
  const s = await serve(() => (gets++, { status: 200, body: fixture('channels.json') }));
  try {
    const set = await fetchChannels(s.url);
    assert.equal(channelLatest(set, 'stable').raw, 'v1.33.5+k3s1');
    assert.equal(gets, 1);
  } finally {
    await s.close();
  }
});

test('GIVEN a channel server answering 503 or 404 WHEN fetched THEN the error says the status and what to do', async () => {
  const s = await serve((p) => (p.endsWith('/channels') ? { status: 503, body: 'down' } : { status: 404, body: 'nope' }));
  try {
    await assert.rejects(fetchChannels(s.url), (e: ChannelError) => {
      assert.equal(e.message, `channel server ${s.url} answered 503 Service Unavailable`);
      assert.equal(e.hint, 'try again later, or pin a version with --k3s-version');
      return true;
    });
    await assert.rejects(fetchChannels(s.url + '/x'), /answered 404 Not Found/);
  } finally {
    await s.close();
  }
});

test('GIVEN nothing listening WHEN fetched THEN the error names the URL', async () => {
  const s = await serve(() => ({ status: 200, body: '{}' }));
  await s.close();
  await assert.rejects(fetchChannels(s.url), (e: ChannelError) => e.message.startsWith(`cannot reach the channel server ${s.url}`));
});

test('GIVEN a channel server that redirects WHEN fetched THEN the redirect is followed, and an endless one is refused naming it', async () => {
  const s = await serve((p) =>
    p === '/v1-release/channels'
      ? { status: 302, body: '', location: '/mirror/channels' }
      : p === '/mirror/channels'
        ? { status: 200, body: fixture('channels.json') }
        : { status: 301, body: '', location: p },
  );
  try {
    assert.equal(channelLatest(await fetchChannels(s.url), 'stable').raw, 'v1.33.5+k3s1');
    await assert.rejects(fetchChannels(`${s.url}/loop`), (e: ChannelError) => {
      assert.equal(
        e.message,
        `cannot reach the channel server ${s.url}/loop: more than 5 redirects (the last to /v1-release/channels/loop)`,
      );
      return true;
    });
  } finally {
    await s.close();
  }
});

test('GIVEN an HTTPS channel server whose certificate no CA vouches for WHEN fetched THEN it is refused, naming the URL and why', async () => {
  const { createServer: createTls } = await import('node:https');
  let served = 0;
  const server = createTls({ key: fixture('tls/self-signed.key'), cert: fixture('tls/self-signed.crt') }, (_req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fixture('channels.json'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1-release/channels`;
  try {
    await assert.rejects(fetchChannels(url, { timeoutMs: 5000 }), (e: ChannelError) => {
      assert.equal(e.message, `cannot reach the channel server ${url}: self-signed certificate`);
      assert.equal(e.hint, 'check your network, set k3s.channelUrl to a reachable mirror, or pin a version with --k3s-version');
      return true;
    });
    assert.equal(served, 0, 'no request was answered over the unverified connection');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
