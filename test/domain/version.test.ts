import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compareVersions,
  parseK3sVersionOutput,
  parseVersion,
  tryParseVersion,
  versionSlug,
  minorChannel,
} from '../../src/domain/version.js';
import { fixture } from '../helpers/fixtures.js';

test('GIVEN valid k3s versions WHEN parsed THEN every part is read', () => {
  assert.deepEqual(tryParseVersion('v1.31.2+k3s1'), { major: 1, minor: 31, patch: 2, rc: undefined, k3s: 1, raw: 'v1.31.2+k3s1' });
  assert.equal(tryParseVersion('v1.32.0-rc1+k3s1')?.rc, 1);
  assert.equal(tryParseVersion('v1.30.14+k3s2')?.k3s, 2);
});

test('GIVEN anything that is not exactly a k3s version WHEN parsed THEN it is refused', () => {
  for (const bad of [
    'stable',
    '',
    'v1.31.2',
    '1.31.2+k3s1',
    'v1.31+k3s1',
    'v1.31.2+k3s',
    'v1.31.2+rke2r1',
    ' v1.31.2+k3s1',
    'v1.31.2+k3s1 ',
    'v1.31.2+k3s1\n',
    'v1.31.2-beta1+k3s1',
    '<html>',
    'v1.31.2+k3s1;rm -rf /',
    'v999999999.1.1+k3s1',
  ]) {
    assert.equal(tryParseVersion(bad), undefined, bad);
  }
  assert.throws(
    () => parseVersion('stable', 'channel stable'),
    /channel stable: "stable" is not a k3s version \(expected e\.g\. v1\.31\.2\+k3s1\)/,
  );
});

test('GIVEN k3s revisions and release candidates WHEN compared THEN rc < final and k3s1 < k3s2', () => {
  const order = [
    'v1.30.9+k3s1',
    'v1.31.0-rc1+k3s1',
    'v1.31.0-rc2+k3s1',
    'v1.31.0+k3s1',
    'v1.31.0+k3s2',
    'v1.31.1+k3s1',
    'v1.31.10+k3s1',
    'v1.32.0+k3s1',
    'v2.0.0+k3s1',
  ];
  for (let i = 0; i + 1 < order.length; i++) {
    assert.ok(compareVersions(parseVersion(order[i]!), parseVersion(order[i + 1]!)) < 0, `${order[i]} < ${order[i + 1]}`);
  }
});

const versionArb = fc
  .record({
    major: fc.integer({ min: 0, max: 3 }),
    minor: fc.integer({ min: 0, max: 40 }),
    patch: fc.integer({ min: 0, max: 20 }),
    rc: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    k3s: fc.integer({ min: 1, max: 3 }),
  })
  .map((r) => parseVersion(`v${r.major}.${r.minor}.${r.patch}${r.rc ? `-rc${r.rc}` : ''}+k3s${r.k3s}`));

test('PROPERTY compareVersions is a total order consistent with equality of text', () => {
  fc.assert(
    fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
      assert.equal(Math.sign(compareVersions(a, b)), -Math.sign(compareVersions(b, a)));
      assert.equal(compareVersions(a, b) === 0, a.raw === b.raw);
      if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) assert.ok(compareVersions(a, c) <= 0);
    }),
  );
});

test('GIVEN the real `k3s --version` output WHEN parsed THEN the first line gives the version', () => {
  assert.equal(parseK3sVersionOutput(fixture('k3s-version.txt'))?.raw, 'v1.30.4+k3s1');
  assert.equal(parseK3sVersionOutput('k3s version v1.30.4+k3s1\n')?.raw, 'v1.30.4+k3s1');
  assert.equal(parseK3sVersionOutput('go version go1.22.5\nk3s version v1.30.4+k3s1 (98262b5d)'), undefined);
  assert.equal(parseK3sVersionOutput('k3s version stable (98262b5d)'), undefined);
  assert.equal(parseK3sVersionOutput(''), undefined);
});

test('GIVEN a version WHEN turned into a snapshot slug or a channel name THEN it is as Proxmox and the channel server need', () => {
  assert.equal(versionSlug(parseVersion('v1.31.2+k3s1')), 'v1-31-2-k3s1');
  assert.match(versionSlug(parseVersion('v1.32.0-rc1+k3s2')), /^[a-z][a-z0-9_-]+$/);
  assert.equal(minorChannel(parseVersion('v1.31.2+k3s1')), 'v1.31');
});
