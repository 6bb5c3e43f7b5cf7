import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShellError } from '../../src/domain/errors.js';
import { Pct } from '../../src/proxmox/pct.js';
import type { Shell } from '../../src/shell/shell.js';
import { makeLab } from '../lab/helpers.js';

/** Counts the pct starts a Shell sees: one per `pct exec` run, one per session opened. */
function counting(inner: Shell): Shell & { starts: () => number } {
  let n = 0;
  return {
    host: inner.host,
    run: (argv, o) => {
      if (argv[1] === 'exec') n++;
      return inner.run(argv, o);
    },
    openSession: (argv) => {
      n++;
      return inner.openSession!(argv);
    },
    close: () => inner.close(),
    starts: () => n,
  };
}

test('GIVEN sessions WHEN several commands run in one container THEN pct starts once, and results are those of pct exec (stdout and stderr apart)', async () => {
  const lab = await makeLab();
  const sh = counting(lab.shell('pve1'));
  const pct = new Pct(sh, { sessions: true });
  pct.warm(101);
  assert.match((await pct.exec(101, ['/usr/local/bin/k3s', '--version'])).stdout, /^k3s version v1\.\d+/);
  assert.deepEqual(await pct.exec(101, ['sh', '-c', 'echo out; echo err >&2; exit 3']), { code: 3, stdout: 'out\n', stderr: 'err\n' });
  assert.deepEqual(await pct.execScript(101, 'set -e\nfalse\necho never\n'), { code: 1, stdout: '', stderr: '' });
  assert.deepEqual(await pct.exec(101, ['cat', '/nonexistent']), {
    code: 1,
    stdout: '',
    stderr: 'cat: /nonexistent: No such file or directory\n',
  });
  assert.equal(sh.starts(), 1);
  // Without sessions: one pct start per command.
  const plain = new Pct(sh);
  await plain.exec(101, ['true']);
  await plain.exec(101, ['true']);
  assert.equal(sh.starts(), 3);
  await pct.closeSessions();
});

test("GIVEN a session WHEN its container stops THEN the next command gets pct's own answer (exit 255), and a dropped connection is unreachable", async () => {
  const lab = await makeLab();
  const sh = lab.shell('pve1');
  const pct = new Pct(sh, { sessions: true });
  assert.equal((await pct.exec(101, ['true'])).code, 0);
  assert.equal((await sh.run(['pct', 'stop', '101'])).code, 0);
  assert.deepEqual(await pct.exec(101, ['true']), { code: 255, stdout: '', stderr: "container '101' not running!\n" });
  assert.equal((await sh.run(['pct', 'start', '101'])).code, 0);
  pct.warm(101);
  assert.equal((await pct.exec(101, ['true'])).code, 0);
  lab.addFault({ match: { host: 'pve1', vmid: 101, contains: 'drop-me' }, effect: { dropConnection: true } });
  await assert.rejects(
    pct.exec(101, ['echo', 'drop-me']),
    (e: unknown) => e instanceof ShellError && e.unreachable && /connection lost while running a command in CT 101/.test(e.message),
  );
  await assert.rejects(pct.exec(101, ['sleep', '5'], { timeoutMs: 30 }), (e: unknown) => e instanceof ShellError && e.timedOut);
  assert.equal((await pct.exec(101, ['true'])).code, 0);
  await pct.closeSessions();
});

test('GIVEN many containers WHEN sessions would exceed the cap THEN commands fall back to one pct exec each', async () => {
  const lab = await makeLab();
  const sh = counting(lab.shell('pve1'));
  const pct = new Pct(sh, { sessions: true, maxSessions: 1 });
  await pct.exec(101, ['true']);
  await pct.exec(101, ['true']);
  assert.equal(sh.starts(), 1);
  await pct.exec(100, ['true']);
  await pct.exec(100, ['true']);
  assert.equal(sh.starts(), 3);
  await pct.closeSessions();
});

test('GIVEN a session being closed WHEN another container wants one THEN the closing one still counts against the cap until it has ended (its SSH channel is not given back yet)', async () => {
  const lab = await makeLab();
  const sh = counting(lab.shell('pve1'));
  const pct = new Pct(sh, { sessions: true, maxSessions: 1 });
  await pct.exec(101, ['true']);
  assert.equal(sh.starts(), 1);
  const closing = pct.closeSessions(101);
  // Asked while 101's session is still ending: no second session, one pct exec of its own.
  await pct.exec(100, ['true']);
  assert.equal(sh.starts(), 2);
  await closing;
  await pct.exec(100, ['true']);
  await pct.exec(100, ['true']);
  assert.equal(sh.starts(), 3, 'once it has ended, a session opens again (and serves both)');
  await pct.closeSessions();
});
