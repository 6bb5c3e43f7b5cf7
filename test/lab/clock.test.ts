/** The lab's virtual clock: it leaps to the next wake-up when every party waits, never goes back, and can be held. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openLab } from '../../src/lab/index.js';
import { makeLab, inCt } from './helpers.js';
import { repoRoot } from '../helpers/fixtures.js';

const HOUR = 3_600_000;

test('GIVEN a virtual lab whose restarts take an hour WHEN a k3s service restarts THEN the restart and the node becoming Ready pass in lab time, not in real time', async () => {
  const lab = await makeLab({ clock: 'virtual', timing: { installMs: 5, restartMs: HOUR, drainPerPodMs: 1, pctExecMs: 0, sshRttMs: 0 } });
  assert.equal(lab.clock.mode, 'virtual');
  const t0 = lab.clock.now();
  const r = await inCt(lab, 102, ['systemctl', 'restart', 'k3s-agent']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lab.clock.now() - t0 >= HOUR / 2, 'systemctl restart returns once the service is up (half of restartMs)');
  assert.equal(lab.summary().find((n) => n.name === 'k3s-worker-2')?.ready, false);
  await lab.clock.sleep(HOUR / 2);
  assert.ok(lab.clock.now() - t0 >= HOUR);
  assert.equal(lab.summary().find((n) => n.name === 'k3s-worker-2')?.ready, true);
});

test('GIVEN a virtual lab WHEN another process opens it THEN it sees the time the first one moved on to', async () => {
  const lab = await makeLab({ clock: 'virtual' });
  await lab.clock.sleep(10 * HOUR);
  const mine = lab.clock.now();
  const script = `import('${join(repoRoot(), 'dist', 'src', 'lab', 'index.js')}').then(async (m) => { const l = await m.openLab(process.argv[1]); process.stdout.write(String(l.clock.now())); })`;
  const child = spawnSync(process.execPath, ['-e', script, lab.dir], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.ok(Number(child.stdout) >= mine, `${child.stdout} >= ${mine}`);
  assert.ok((await openLab(lab.dir)).clock.now() >= mine);
});

test('GIVEN a held virtual clock WHEN a party sleeps THEN it waits in real time until the hold is released, then the clock leaps', async () => {
  const lab = await makeLab({ clock: 'virtual' });
  const release = lab.clock.hold();
  let woke = false;
  const slept = lab.clock.sleep(HOUR).then(() => (woke = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(woke, false, 'held: no leap');
  release();
  await slept;
  assert.equal(woke, true);
});

test('GIVEN a virtual clock WHEN a sleep is aborted THEN it rejects with the reason and the clock does not leap to it', async () => {
  const lab = await makeLab({ clock: 'virtual' });
  const t0 = lab.clock.now();
  const ac = new AbortController();
  const slept = lab.clock.sleep(HOUR, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(slept, /stop/);
  await new Promise((r) => setImmediate(() => setImmediate(r)));
  assert.ok(lab.clock.now() - t0 < HOUR);
});

test('GIVEN a real-time lab WHEN asked THEN its clock is the real one and holding it does nothing', async () => {
  const lab = await makeLab();
  assert.equal(lab.clock.mode, 'real');
  const release = lab.clock.hold();
  release();
  assert.ok(Math.abs(lab.clock.now() - Date.now()) < 1000);
});
