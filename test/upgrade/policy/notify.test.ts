/** Notifications (issue 16, item 7): formats, payloads without secrets, and a run posting to a local server on 127.0.0.1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { describeTarget, parseNotifyTarget, request, summary, type NotifyEvent } from '../../../src/upgrade/policy/notify.js';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';

cliInProcess();

test('GIVEN webhook URLs WHEN parsed THEN the format comes from the prefix or the host, and a target is described without its path', () => {
  assert.equal(parseNotifyTarget('https://ntfy.sh/my-k3s')?.format, 'ntfy');
  assert.equal(parseNotifyTarget('https://hooks.slack.com/services/T0/B0/XXXX')?.format, 'slack');
  assert.equal(parseNotifyTarget('https://discord.com/api/webhooks/1/abc')?.format, 'discord');
  assert.equal(parseNotifyTarget('https://example.com/hook')?.format, 'generic');
  assert.deepEqual(parseNotifyTarget('ntfy+http://127.0.0.1:8080/up'), { format: 'ntfy', url: 'http://127.0.0.1:8080/up' });
  assert.equal(parseNotifyTarget('ftp://x'), undefined);
  assert.equal(describeTarget(parseNotifyTarget('https://hooks.slack.com/services/T0/B0/SECRET')!), 'slack hooks.slack.com');
});

const failed: NotifyEvent = {
  event: 'node-failed',
  cluster: 'prod',
  run: 'r1',
  target: 'v1.33.5+k3s1',
  at: '2026-12-01T00:00:00.000Z',
  node: 'k3s-worker-2',
  from: 'v1.33.3+k3s1',
  to: 'v1.33.5+k3s1',
  durationMs: 61_000,
  message: 'k3s-worker-2 was not Ready within 10m',
  fix: 'look at it: pct exec 102 -- journalctl -u k3s-agent',
};

test('GIVEN a failed node WHEN each format is built THEN the body carries cluster, node, versions, duration and the fix, in that format’s shape', () => {
  const text = summary(failed);
  assert.equal(
    text,
    'pve-k3s: prod: k3s-worker-2 FAILED: k3s-worker-2 was not Ready within 10m. Fix: look at it: pct exec 102 -- journalctl -u k3s-agent',
  );
  assert.deepEqual(request({ format: 'slack', url: 'https://hooks.slack.com/services/T/B/S' }, failed), {
    url: 'https://hooks.slack.com/services/T/B/S',
    body: { text },
  });
  assert.deepEqual(request({ format: 'discord', url: 'https://discord.com/api/webhooks/1/a' }, failed).body, {
    content: text,
    username: 'pve-k3s',
  });
  const ntfy = request({ format: 'ntfy', url: 'https://ntfy.example/sub/alerts' }, failed);
  assert.equal(ntfy.url, 'https://ntfy.example/sub');
  assert.deepEqual(ntfy.body, {
    topic: 'alerts',
    title: 'pve-k3s prod: node-failed',
    message: text,
    tags: ['rotating_light'],
    priority: 5,
  });
  const generic = request({ format: 'generic', url: 'https://example.com/h?token=T0P' }, failed).body as Record<string, unknown>;
  assert.equal(generic['durationMs'], 61_000);
  assert.equal(generic['fix'], failed.fix);
  assert.ok(!JSON.stringify(generic).includes('T0P'), 'the URL (and its token) is never in the payload');
});

interface Hook {
  base: string;
  posts: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}
async function hookServer(): Promise<Hook> {
  const posts: Hook['posts'] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(req.url === '/broken' ? 500 : 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, posts, close: () => new Promise((r) => server.close(() => r())) };
}
async function withLab(fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture({});
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

test('GIVEN --notify in every format and a broken webhook WHEN upgrade runs THEN each gets start, every node, the end; the broken one is a warning and the run completes', async () => {
  const h = await hookServer();
  try {
    await withLab(async (f) => {
      const r = await f.cli([
        'upgrade',
        '--yes',
        '--notify',
        `${h.base}/generic`,
        '--notify',
        `slack+${h.base}/slack`,
        '--notify',
        `discord+${h.base}/discord`,
        '--notify',
        `ntfy+${h.base}/k3s-topic`,
        '--notify',
        `${h.base}/broken`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /warning: notification to generic 127\.0\.0\.1:\d+ failed: HTTP 500 \(the upgrade goes on\)/);
      assert.match(
        r.stdout,
        /^Notify: generic 127\.0\.0\.1:\d+, slack 127\.0\.0\.1:\d+, discord 127\.0\.0\.1:\d+, ntfy 127\.0\.0\.1:\d+, generic 127\.0\.0\.1:\d+ \(run start, each node, the end\)$/m,
      );
      const generic = h.posts.filter((p) => p.path === '/generic').map((p) => p.body);
      assert.deepEqual(
        generic.map((b) => [b['event'], b['node'] ?? null]),
        [
          ['run-start', null],
          ['node-done', 'k3s-worker-1'],
          ['node-done', 'k3s-worker-2'],
          ['node-done', 'k3s-worker-3'],
          ['node-done', 'k3s-ctrl-1'],
          ['run-complete', null],
        ],
      );
      assert.equal(generic[1]!['cluster'], 'lab');
      assert.equal(generic[1]!['from'], 'v1.33.3+k3s1');
      assert.equal(generic[1]!['to'], 'v1.33.5+k3s1');
      assert.equal(typeof generic[1]!['durationMs'], 'number');
      assert.equal(generic[5]!['nodesDone'], 4);
      const slack = h.posts.filter((p) => p.path === '/slack').map((p) => p.body['text']);
      assert.equal(slack.length, 6);
      assert.match(String(slack[5]), /^pve-k3s: upgrade of lab to v1\.33\.5\+k3s1 complete in \S+ \(4\/4 nodes\)$/);
      assert.equal(h.posts.filter((p) => p.path === '/discord').length, 6);
      const ntfy = h.posts.filter((p) => p.path === '/');
      assert.equal(ntfy.length, 6);
      assert.equal(ntfy[0]!.body['topic'], 'k3s-topic');
      assert.equal(h.posts.filter((p) => p.path === '/broken').length, 6);
      const token = readFileSync(f.inventory, 'utf8');
      assert.ok(
        h.posts.every((p) => !JSON.stringify(p.body).includes(h.base)),
        'no webhook URL in a payload',
      );
      assert.ok(token.length > 0);
    });
  } finally {
    await h.close();
  }
});

test('GIVEN notify in the inventory and a node that never gets Ready WHEN upgrade runs THEN node-failed carries the error and the fix, then run-failed', async () => {
  const h = await hookServer();
  try {
    await withLab(async (f) => {
      writeFileSync(f.inventory, `${readFileSync(f.inventory, 'utf8')}upgrade:\n  readyTimeout: 30s\n  notify: ${h.base}/hook\n`);
      f.lab.update((s) => {
        s.clusters['lab']!.nodes['k3s-worker-1']!.failsAfter = { version: 'v1.33.5+k3s1', ms: 0 };
      });
      const r = await f.cli(['upgrade', '--yes']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /The upgrade stopped at step 1\/k3s-worker-1\/wait-ready/, r.stderr);
      const events = h.posts.map((p) => p.body);
      assert.deepEqual(
        events.map((b) => b['event']),
        ['run-start', 'node-failed', 'run-failed'],
      );
      assert.equal(events[1]!['node'], 'k3s-worker-1');
      assert.match(String(events[1]!['message']), /k3s-worker-1/);
      assert.equal(typeof events[1]!['fix'], 'string');
      assert.match(String(events[2]!['message']), /^1\/k3s-worker-1\/wait-ready: /);
    });
  } finally {
    await h.close();
  }
});
