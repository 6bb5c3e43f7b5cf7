/** `plan --engine suc` and `upgrade --engine suc` on the embedded lab (the built CLI, real argv). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';
import { fixture } from '../helpers/fixtures.js';
import { validate, type Schema } from '../helpers/crd-schema.js';

cliInProcess();

const crd = JSON.parse(fixture('suc-plan-crd.json')) as { openAPIV3Schema: Schema };

test('GIVEN the default lab WHEN plan --engine suc runs THEN it prints parseable YAML Plans (and a JSON List) valid against the CRD; upgrade --engine suc without SUC installed is refused', async () => {
  const f = await labFixture({});
  try {
    const r = await f.cli(['plan', '--engine', 'suc', '-o', 'yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# system-upgrade-controller Plans for cluster lab, written by pve-k3s/);
    const docs = parseAllDocuments(r.stdout);
    assert.ok(Array.isArray(docs));
    assert.deepEqual(
      docs.map((d) => d.errors.length),
      [0, 0],
    );
    const plans = docs.map((d) => d.toJS() as { metadata: { name: string }; spec: { version: string } });
    assert.deepEqual(
      plans.map((p) => [p.metadata.name, p.spec.version]),
      [
        ['pve-k3s-lab-1-server', 'v1.33.5+k3s1'],
        ['pve-k3s-lab-1-agent', 'v1.33.5+k3s1'],
      ],
    );
    for (const p of plans) assert.deepEqual(validate(crd.openAPIV3Schema, p), []);

    const j = await f.cli(['plan', '--engine', 'suc', '-o', 'json']);
    assert.equal(j.code, 0, j.stderr);
    const list = JSON.parse(j.stdout) as { apiVersion: string; kind: string; items: unknown[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items, plans);

    // Without system-upgrade-controller in the cluster, the live engine is refused (nothing planned or changed).
    const u = await f.cli(['upgrade', '--engine', 'suc', '--yes']);
    assert.equal(u.code, 1, u.stderr);
    assert.match(u.stderr, /system-upgrade-controller is not installed in cluster lab/);
    assert.equal(u.stdout, '');

    const bad = await f.cli(['plan', '--engine', 'salt']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--engine/);
  } finally {
    f.cleanup();
  }
});
