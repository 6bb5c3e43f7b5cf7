/** The lab's kubectl keeps Leases as the API server does: create, compare-and-swap replace, get, delete. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab, inCt } from './helpers.js';
import type { Lab } from '../../src/lab/index.js';

const KUBECTL = '/usr/local/bin/kubectl';
const kc = (lab: Lab, args: string[], stdin?: string) => inCt(lab, 100, [KUBECTL, ...args], stdin);

const lease = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'pve-k3s-lab', namespace: 'kube-system', ...metadata },
    spec,
  });

const SPEC = {
  holderIdentity: 'ops@laptop pid 1 run r1 upgrade',
  leaseDurationSeconds: 60,
  acquireTime: '2026-01-02T03:04:05.123456Z',
  renewTime: '2026-01-02T03:04:05.123Z',
  leaseTransitions: 0,
};

test('GIVEN no lease WHEN kubectl create -f - twice THEN the first creates it and the second fails with AlreadyExists', async () => {
  const lab = await makeLab({ workers: 1 });
  const a = await kc(lab, ['create', '-f', '-'], lease(SPEC));
  assert.deepEqual([a.code, a.stdout], [0, 'lease.coordination.k8s.io/pve-k3s-lab created\n']);
  const b = await kc(lab, ['create', '-f', '-'], lease({ ...SPEC, holderIdentity: 'bob@b pid 2 run r2 restore' }));
  assert.equal(b.code, 1);
  assert.equal(
    b.stderr,
    'Error from server (AlreadyExists): error when creating "STDIN": leases.coordination.k8s.io "pve-k3s-lab" already exists\n',
  );
  const g = JSON.parse((await kc(lab, ['get', 'lease', 'pve-k3s-lab', '-n', 'kube-system', '-o', 'json'])).stdout);
  assert.equal(g.spec.holderIdentity, 'ops@laptop pid 1 run r1 upgrade');
  // MicroTime as the API stores it: six fractional digits, UTC.
  assert.equal(g.spec.acquireTime, '2026-01-02T03:04:05.123456Z');
  assert.equal(g.spec.renewTime, '2026-01-02T03:04:05.123000Z');
  assert.match(g.metadata.resourceVersion, /^\d+$/);
});

test('GIVEN a lease WHEN two writers replace it with the same resourceVersion THEN the first wins and the second gets the 409 Conflict', async () => {
  const lab = await makeLab({ workers: 1 });
  const created = JSON.parse((await kc(lab, ['create', '-f', '-', '-o', 'json'], lease(SPEC))).stdout);
  const rv = created.metadata.resourceVersion as string;
  const a = await kc(lab, ['replace', '-f', '-', '-o', 'json'], lease({ ...SPEC, holderIdentity: 'a' }, { resourceVersion: rv }));
  assert.equal(a.code, 0, a.stderr);
  const after = JSON.parse(a.stdout);
  assert.equal(Number(after.metadata.resourceVersion), Number(rv) + 1);
  assert.equal(after.metadata.uid, created.metadata.uid);
  const b = await kc(lab, ['replace', '-f', '-'], lease({ ...SPEC, holderIdentity: 'b' }, { resourceVersion: rv }));
  assert.equal(b.code, 1);
  assert.equal(
    b.stderr,
    'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on leases.coordination.k8s.io "pve-k3s-lab": the object has been modified; please apply your changes to the latest version and try again\n',
  );
  const g = JSON.parse((await kc(lab, ['get', 'lease', 'pve-k3s-lab', '-n', 'kube-system', '-o', 'json'])).stdout);
  assert.equal(g.spec.holderIdentity, 'a');
  assert.equal(g.metadata.resourceVersion, after.metadata.resourceVersion);
});

test('GIVEN kubectl replace WHEN the object carries no resourceVersion, or the lease does not exist THEN kubectl overwrites (it fills the version in) or creates it', async () => {
  const lab = await makeLab({ workers: 1 });
  const c = await kc(lab, ['replace', '-f', '-', '-o', 'json'], lease(SPEC, { resourceVersion: '999' }));
  assert.equal(c.code, 0, c.stderr);
  const r = await kc(lab, ['replace', '-f', '-', '-o', 'json'], lease({ ...SPEC, holderIdentity: 'x' }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).spec.holderIdentity, 'x');
});

test('GIVEN invalid leases WHEN created THEN the API refuses them as it would', async () => {
  const lab = await makeLab({ workers: 1 });
  const d = await kc(lab, ['create', '-f', '-'], lease({ ...SPEC, leaseDurationSeconds: 0 }));
  assert.deepEqual(
    [d.code, d.stderr],
    [1, 'The Lease "pve-k3s-lab" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0\n'],
  );
  const t = await kc(lab, ['create', '-f', '-'], lease({ ...SPEC, renewTime: '10:42' }));
  assert.equal(t.code, 1);
  assert.match(
    t.stderr,
    /^Error from server \(BadRequest\): error when creating "STDIN": Lease in version "v1" cannot be handled as a Lease: parsing time "10:42"/,
  );
  const rv = await kc(lab, ['create', '-f', '-'], lease(SPEC, { resourceVersion: '5' }));
  assert.match(rv.stderr, /resourceVersion should not be set on objects to be created/);
});

test('GIVEN leases WHEN listed, fetched when missing, and deleted THEN kubectl answers as against a real API', async () => {
  const lab = await makeLab({ workers: 1 });
  const missing = await kc(lab, ['get', 'lease', 'pve-k3s-lab', '-n', 'kube-system', '-o', 'json']);
  assert.deepEqual(
    [missing.code, missing.stderr],
    [1, 'Error from server (NotFound): leases.coordination.k8s.io "pve-k3s-lab" not found\n'],
  );
  await kc(lab, ['create', '-f', '-'], lease(SPEC));
  const list = await kc(lab, ['get', 'leases', '-n', 'kube-system']);
  assert.match(list.stdout, /^NAME +HOLDER +AGE\npve-k3s-lab +ops@laptop pid 1 run r1 upgrade +\d+s\n$/);
  const other = await kc(lab, ['get', 'leases', '-n', 'default']);
  assert.equal(other.stderr, 'No resources found in default namespace.\n');
  const del = await kc(lab, ['delete', 'lease', 'pve-k3s-lab', '-n', 'kube-system']);
  assert.deepEqual([del.code, del.stdout], [0, 'lease.coordination.k8s.io "pve-k3s-lab" deleted\n']);
});

test('GIVEN a lease WHEN the SQLite datastore is backed up and restored THEN the lease comes back as the backup held it', async () => {
  const lab = await makeLab({ workers: 1 });
  await kc(lab, ['create', '-f', '-'], lease(SPEC));
  // k3s stopped: state.db holds the data (what a backup copies).
  await inCt(lab, 100, ['systemctl', 'stop', 'k3s']);
  const db = await inCt(lab, 100, ['cat', '/var/lib/rancher/k3s/server/db/state.db']);
  await inCt(lab, 100, ['systemctl', 'start', 'k3s']);
  await new Promise((r) => setTimeout(r, 80));
  await kc(lab, ['delete', 'lease', 'pve-k3s-lab', '-n', 'kube-system']);
  await inCt(lab, 100, ['systemctl', 'stop', 'k3s']);
  await inCt(lab, 100, ['sh', '-c', 'cat > /var/lib/rancher/k3s/server/db/state.db'], db.stdout);
  await inCt(lab, 100, ['systemctl', 'start', 'k3s']);
  await new Promise((r) => setTimeout(r, 80));
  const g = await kc(lab, ['get', 'lease', 'pve-k3s-lab', '-n', 'kube-system', '-o', 'json']);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(JSON.parse(g.stdout).spec.holderIdentity, 'ops@laptop pid 1 run r1 upgrade');
});
