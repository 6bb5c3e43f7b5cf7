/** Gates before each node (issue 16, item 6): kured's alert semantics, blocking pods, a fake Prometheus on 127.0.0.1, runs on the lab. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockingAlerts, blockingPods, fetchAlerts, parseAlerts, urlOrigin, type ActiveAlert } from '../../../src/upgrade/policy/gates.js';
import { cliInProcess, labFixture, type LabFixture } from '../../helpers/lab-cli.js';
import { backupPod } from '../../helpers/pods.js';

cliInProcess();

const alerts: ActiveAlert[] = [
  { name: 'Watchdog', state: 'firing' },
  { name: 'KubeNodeNotReady', state: 'pending' },
  { name: 'KubePodCrashLooping', state: 'firing' },
];
const names = (a: ActiveAlert[]) => a.map((x) => x.name);

test('GIVEN active alerts WHEN filtered with kured semantics THEN any active alert blocks, the regexp IGNORES matches, match-only inverts, firing-only drops pending', () => {
  assert.deepEqual(names(blockingAlerts(alerts, {})), ['Watchdog', 'KubeNodeNotReady', 'KubePodCrashLooping']);
  assert.deepEqual(names(blockingAlerts(alerts, { regexp: /^Watchdog$/ })), ['KubeNodeNotReady', 'KubePodCrashLooping']);
  assert.deepEqual(names(blockingAlerts(alerts, { regexp: /^KubeNode/, matchOnly: true })), ['KubeNodeNotReady']);
  assert.deepEqual(names(blockingAlerts(alerts, { firingOnly: true, regexp: /Watchdog/ })), ['KubePodCrashLooping']);
  assert.deepEqual(names(blockingAlerts([{ name: 'X', state: 'inactive' }], {})), []);
  // Unanchored, as Go's MatchString: "Crash" matches KubePodCrashLooping.
  assert.deepEqual(names(blockingAlerts(alerts, { regexp: /Crash|Watchdog/ })), ['KubeNodeNotReady']);
});

test('GIVEN Prometheus answers WHEN parsed THEN alerts come with name and state; anything else is refused', () => {
  assert.deepEqual(parseAlerts({ status: 'success', data: { alerts: [{ labels: { alertname: 'A' }, state: 'firing' }] } }), [
    { name: 'A', state: 'firing' },
  ]);
  assert.throws(() => parseAlerts({ status: 'error' }), /not a Prometheus \/api\/v1\/alerts document/);
  assert.deepEqual(
    blockingPods({
      items: [
        { metadata: { name: 'a', namespace: 'ns' }, status: { phase: 'Running' } },
        { metadata: { name: 'done' }, status: { phase: 'Succeeded' } },
      ],
    }),
    ['ns/a'],
  );
  assert.equal(urlOrigin('https://user:secret@prom.example:9090/prometheus/?x=1'), 'https://prom.example:9090/prometheus');
});

interface FakeProm {
  url: string;
  requests: { path: string; auth: string | undefined }[];
  close(): Promise<void>;
}
/** A fake Prometheus on 127.0.0.1: `answer(n)` gives the alerts of the n-th request (0-based), or a status code. */
async function fakePrometheus(answer: (n: number) => ActiveAlert[] | number): Promise<FakeProm> {
  const requests: FakeProm['requests'] = [];
  const server: Server = createServer((req, res) => {
    const n = requests.length;
    requests.push({ path: req.url ?? '', auth: req.headers.authorization });
    const a = answer(n);
    if (typeof a === 'number') {
      res.writeHead(a).end('service unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'success',
        data: {
          alerts: a.map((x) => ({
            labels: { alertname: x.name, severity: 'warning' },
            state: x.state,
            activeAt: '2026-12-01T00:00:00Z',
            value: '1e+00',
          })),
        },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

test('GIVEN a Prometheus on 127.0.0.1 WHEN alerts are fetched THEN its /api/v1/alerts is asked (under a path prefix, credentials as basic auth); failures say why', async () => {
  const p = await fakePrometheus((n) => (n === 1 ? 503 : [{ name: 'A', state: 'firing' }]));
  try {
    const u = new URL(p.url);
    assert.deepEqual(await fetchAlerts(`http://ops:s3cret@${u.host}/prom/`), [{ name: 'A', state: 'firing' }]);
    assert.deepEqual(p.requests[0], { path: '/prom/api/v1/alerts', auth: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` });
    await assert.rejects(fetchAlerts(`http://ops:s3cret@${u.host}`), (e: Error) => {
      assert.equal(e.message, `Prometheus at http://${u.host} answered HTTP 503: service unavailable`);
      return true;
    });
  } finally {
    await p.close();
  }
  await assert.rejects(
    fetchAlerts(await closedPort()),
    /^ResponseError: cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
  );
});

/** The URL of a port on 127.0.0.1 that nothing listens on (bound, then closed before any connection). */
async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

async function withLab(fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture({});
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}
const kubelets = (f: LabFixture) => Object.fromEntries(f.lab.summary().map((n) => [n.name, n.kubelet]));
const journal = (f: LabFixture) =>
  readFileSync(join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; message?: string; node?: string });

test('GIVEN an alert firing at the start WHEN upgrade runs with --prometheus-url THEN the first node waits until it clears, says so, and the run completes', async () => {
  const p = await fakePrometheus((n) => (n < 3 ? [{ name: 'KubeNodeNotReady', state: 'firing' }] : []));
  try {
    await withLab(async (f) => {
      const r = await f.cli(['upgrade', '--yes', '--prometheus-url', p.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /k3s-worker-1 waits for its gate \(\d+(\.\d)?s of at most 1h\): alert KubeNodeNotReady \(firing\)/);
      assert.match(
        r.stdout,
        new RegExp(`^Gates: before each node, no active alert at ${p.url.replace(/\./g, '\\.')} \\(waiting at most 1h\\)$`, 'm'),
      );
      const notes = journal(f)
        .filter((x) => x.type === 'note')
        .map((x) => x.message);
      assert.ok(notes.includes('the gate before k3s-worker-1 opened after 1m30s'), notes.join('\n'));
      assert.equal(p.requests.length, 3 + 4, 'checked until clear, then once before each of the other nodes');
      assert.ok(Object.values(kubelets(f)).every((v) => !v || v === 'v1.33.5+k3s1'));
    });
  } finally {
    await p.close();
  }
});

test('GIVEN an always-firing Watchdog WHEN it is filtered with --alert-filter-regexp THEN no node waits', async () => {
  const p = await fakePrometheus(() => [{ name: 'Watchdog', state: 'firing' }]);
  try {
    await withLab(async (f) => {
      const r = await f.cli(['upgrade', '--yes', '--prometheus-url', p.url, '--alert-filter-regexp', '^Watchdog$']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /waits for its gate/);
      assert.equal(p.requests.length, 4);
    });
  } finally {
    await p.close();
  }
});

test('GIVEN a Prometheus that cannot be reached WHEN upgrade runs THEN the gate is closed with the reason, and after --gate-timeout the run stops before the node', async () => {
  const url = await closedPort();
  await withLab(async (f) => {
    const r = await f.cli(['upgrade', '--yes', '--prometheus-url', url, '--gate-timeout', '2m']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^stopped: the gate before k3s-worker-1 stayed closed for 2m: cannot check the alerts: cannot reach Prometheus at ${url.replace(/\./g, '\\.')}: ECONNREFUSED$`,
        'm',
      ),
    );
    assert.match(
      r.stderr,
      /^ {2}nothing was started on k3s-worker-1; `pve-k3s resume` checks the gate again \(--gate-timeout waits longer\)$/m,
    );
    assert.ok(Object.values(kubelets(f)).every((v) => !v || v === 'v1.33.3+k3s1'));
  });
});

test('GIVEN a backup pod on a worker WHEN upgrade runs with --blocking-pod-selector THEN that node does not start; once the pod is gone resume goes on', async () => {
  await withLab(async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.pods.push(backupPod('k3s-worker-2'));
    });
    const r = await f.cli([
      'upgrade',
      '--yes',
      '--blocking-pod-selector',
      'app=backup,tier=batch',
      '--blocking-pod-selector',
      'app=never',
      '--gate-timeout',
      '1m',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^stopped: the gate before k3s-worker-2 stayed closed for 1m: pod on k3s-worker-2: ops\/nightly-backup \(app=backup,tier=batch\)$/m,
    );
    const k = kubelets(f);
    assert.equal(k['k3s-worker-1'], 'v1.33.5+k3s1');
    assert.equal(k['k3s-worker-2'], 'v1.33.3+k3s1');
    f.lab.update((s) => {
      s.clusters['lab']!.pods = s.clusters['lab']!.pods.filter((x) => x.name !== 'nightly-backup');
    });
    const again = await f.cli(['resume', '--yes', '--blocking-pod-selector', 'app=backup,tier=batch']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(Object.values(kubelets(f)).every((v) => !v || v === 'v1.33.5+k3s1'));
  });
});
