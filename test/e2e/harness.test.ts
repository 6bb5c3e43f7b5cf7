import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSshd, isCi, sshdSkipReason, startSshd } from './harness/sshd.js';
import { realShSkipReason, startRealShHosts } from './harness/realsh.js';
import type { Lab } from '../../src/lab/index.js';

test('without sshd the e2e tests are skipped locally with a clear reason', () => {
  assert.equal(
    sshdSkipReason({}, { sshd: false, client: true }),
    'OpenSSH server (sshd) is not installed: `apt-get install openssh-server` to run the e2e tests',
  );
  assert.match(sshdSkipReason({ CI: 'false' }, { sshd: true, client: false }) ?? '', /openssh-client/);
  assert.equal(sshdSkipReason({}, { sshd: true, client: true }), undefined);
});

test('under CI the e2e tests are never skipped: a missing sshd must fail them', async () => {
  assert.equal(isCi({ CI: 'true' }), true);
  assert.equal(isCi({ CI: '0' }), false);
  assert.equal(sshdSkipReason({ CI: 'true' }, { sshd: false, client: false }), undefined);
  assert.equal(findSshd({ PVE_K3S_SSHD: '/nonexistent/sshd' }), undefined);
  const saved = process.env.PVE_K3S_SSHD;
  process.env.PVE_K3S_SSHD = '/nonexistent/sshd';
  try {
    await assert.rejects(startSshd(), /sshd not found \(looked in \/nonexistent\/sshd\): install openssh-server/);
  } finally {
    if (saved === undefined) delete process.env.PVE_K3S_SSHD;
    else process.env.PVE_K3S_SSHD = saved;
  }
});

test('without bwrap, dash or busybox the real-sh e2e tests are skipped locally, naming the package', () => {
  const none = () => false;
  const all = () => true;
  assert.equal(
    realShSkipReason({}, (p) => p !== 'bwrap', all),
    'bwrap is not installed: `apt-get install bubblewrap` to run the real-sh e2e tests',
  );
  assert.match(realShSkipReason({}, (p) => p !== 'busybox', all) ?? '', /apt-get install busybox/);
  assert.match(realShSkipReason({}, all, none) ?? '', /^bubblewrap cannot create a mount namespace here/);
  assert.equal(realShSkipReason({}, all, all), undefined);
});

test('under CI the real-sh e2e tests are never skipped: a missing bwrap must fail them', async () => {
  assert.equal(
    realShSkipReason(
      { CI: 'true' },
      () => false,
      () => false,
    ),
    undefined,
  );
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(startRealShHosts({} as Lab, 'dash'), /^Error: bwrap not found: install bubblewrap/);
  } finally {
    process.env.PATH = saved;
  }
});
