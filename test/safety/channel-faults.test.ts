/** The channel server misbehaving: the upgrade refuses before touching anything, and the next run works. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, journal, kubelets, cordoned } from './helpers.js';
import type { ChannelFault } from '../../src/lab/index.js';
import { cliInProcess } from '../helpers/lab-cli.js';

cliInProcess();

const CASES: Array<{ name: string; fault: ChannelFault; error: RegExp }> = [
  {
    name: '503',
    fault: { path: 'collection', effect: { status: 503 } },
    error:
      /^error: channel server http:\/\/127\.0\.0\.1:\d+\/v1-release\/channels answered 503 Service Unavailable\n  try again later, or pin a version with --k3s-version$/m,
  },
  {
    name: '404',
    fault: { path: 'collection', effect: { status: 404 } },
    error:
      /^error: channel server http:\/\/127\.0\.0\.1:\d+\/v1-release\/channels answered 404 Not Found\n  check k3s\.channelUrl in the inventory \(it must point at \.\.\.\/v1-release\/channels\)$/m,
  },
  {
    name: 'an HTML page',
    fault: { path: 'collection', effect: { body: '<html><body>Bad gateway</body></html>', contentType: 'text/html' } },
    error: /^error: channel server http:\/\/127\.0\.0\.1:\d+\/v1-release\/channels answered an HTML page, not the channels collection$/m,
  },
  {
    name: 'a non-version',
    fault: { effect: { latest: 'stable' } },
    error:
      /^error: channel "stable" on http:\/\/127\.0\.0\.1:\d+\/v1-release\/channels has latest "stable", which is not a k3s version; refusing to use it$/m,
  },
];

for (const c of CASES) {
  test(`GIVEN the channel server answering ${c.name} WHEN upgrade runs THEN it fails with a clear error before any change, and the next upgrade works`, async () => {
    await withLab({ workers: 1 }, async (f) => {
      f.lab.update((s) => {
        s.channelFaults.push({ ...c.fault, times: 10 });
      });
      const r = await f.cli(['upgrade', '--yes']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, c.error);
      assert.deepEqual(journal(f), [], 'no run was started');
      assert.deepEqual(kubelets(f.lab), new Set(['v1.33.3+k3s1']));
      f.lab.update((s) => {
        s.channelFaults = [];
      });
      const ok = await f.cli(['upgrade', '--yes']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(kubelets(f.lab), new Set(['v1.33.5+k3s1']));
      assert.deepEqual(cordoned(f.lab), []);
    });
  });
}
