import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateAnswer } from '../../../src/upgrade/run/gate-answer.js';
import type { Step } from '../../../src/domain/plan.js';
import { withLab, kubelets } from '../../safety/helpers.js';
import { cliInProcess } from '../../helpers/lab-cli.js';

cliInProcess();

const STEP: Step = {
  id: 'k3s-worker-1/wait-ready',
  kind: 'wait-ready',
  node: 'k3s-worker-1',
  vmid: 101,
  host: 'pve1',
  role: 'agent',
  version: 'v1.33.5+k3s1',
};
const SITE = { controller: 'k3s-ctrl-1', vmid: 100, host: 'pve1' };
const WAIT = ['wait', '--for=condition=Ready', 'node/k3s-worker-1', '--timeout=10s'];
const fail = (stderr: string) => ({ code: 1, stdout: '', stderr });

test('GIVEN a wait chunk that timed out WHEN judged THEN still waiting (no backoff)', () => {
  assert.deepEqual(
    gateAnswer(STEP, { args: WAIT, r: fail('error: timed out waiting for the condition on nodes/k3s-worker-1'), site: SITE }),
    {
      kind: 'waiting',
    },
  );
});

test('GIVEN the API refusing or unreachable WHEN judged THEN retry, saying the API is not answering', () => {
  const refused = 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?';
  assert.deepEqual(gateAnswer(STEP, { args: WAIT, r: fail(refused), site: SITE }), {
    kind: 'retry',
    last: `API not answering (${refused})`,
  });
  assert.equal(
    gateAnswer(STEP, { args: WAIT, r: fail('Unable to connect to the server: net/http: TLS handshake timeout'), site: SITE }).kind,
    'retry',
  );
});

test("GIVEN NotFound, Forbidden or an unknown flag WHEN judged THEN the gate fails at once in kubectl's words", () => {
  const cases: Array<[string, string]> = [
    ['Error from server (NotFound): nodes "k3s-worker-1" not found', 'k3s-worker-1 is not in the cluster any more'],
    [
      'Error from server (Forbidden): nodes "k3s-worker-1" is forbidden: User "ops" cannot watch resource "nodes"',
      'are not allowed to do this',
    ],
    ["error: unknown flag: --for\nSee 'kubectl wait --help' for usage.", 'does not understand the command'],
  ];
  for (const [stderr, hint] of cases) {
    const a = gateAnswer(STEP, { args: WAIT, r: fail(stderr), site: SITE });
    assert.equal(a.kind, 'fail', stderr);
    if (a.kind !== 'fail') continue;
    assert.equal(
      a.error.message,
      `the health gate of k3s-worker-1 cannot pass: kubectl wait node/k3s-worker-1 on k3s-ctrl-1: ${stderr.split('\n')[0]}`,
    );
    assert.equal(a.error.node, 'k3s-worker-1');
    assert.equal(a.error.step, 'k3s-worker-1/wait-ready');
    assert.ok(a.error.hint?.includes(hint), a.error.hint);
  }
});

test('GIVEN a node that may be new (install, join) WHEN its NotFound THEN waited for, as not registered yet', () => {
  const nf = fail('Error from server (NotFound): nodes "k3s-worker-1" not found');
  assert.deepEqual(gateAnswer(STEP, { args: WAIT, r: nf, site: SITE }, { nodeMayBeNew: true }), {
    kind: 'retry',
    last: 'not registered in the cluster',
  });
  // Another object's NotFound is still permanent.
  const other = fail('Error from server (NotFound): the server could not find the requested resource');
  assert.equal(gateAnswer(STEP, { args: WAIT, r: other, site: SITE }, { nodeMayBeNew: true }).kind, 'fail');
});

test("GIVEN kubectl answering Forbidden to the health gate WHEN upgrade runs THEN it fails at once with kubectl's words, not after readyTimeout", async () => {
  await withLab({ workers: 1 }, async (f) => {
    f.lab.addFault({
      match: { level: 'container', contains: 'wait --for=jsonpath' },
      effect: {
        exitCode: 1,
        stderr: 'Error from server (Forbidden): nodes "k3s-worker-1" is forbidden: User "ops" cannot watch resource "nodes"\n',
      },
      times: 1000,
    });
    const t0 = Date.now();
    const r = await f.cli(['upgrade', '--yes']);
    const ms = Date.now() - t0;
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /k3s-worker-1: wait Ready FAILED: the health gate of k3s-worker-1 cannot pass: kubectl wait node\/k3s-worker-1 on k3s-ctrl-1: Error from server \(Forbidden\): nodes "k3s-worker-1" is forbidden: User "ops" cannot watch resource "nodes"/,
    );
    // readyTimeout is 10 minutes: failing at once means within the test's own seconds.
    assert.ok(ms < 60_000, `took ${ms} ms`);
    assert.ok(kubelets(f.lab).has('v1.33.5+k3s1') || kubelets(f.lab).has('v1.33.3+k3s1'));
  });
});

test('GIVEN the install script timing out WHEN reported THEN what was waited for, in human units, with its last words (no secrets)', async () => {
  const { runInstallScript } = await import('../../../src/upgrade/run/install.js');
  const { ShellError } = await import('../../../src/domain/errors.js');
  const step: Step = { ...STEP, id: 'k3s-worker-2/install', kind: 'install', node: 'k3s-worker-2', vmid: 102, host: 'pve2' };
  const timedOut = new ShellError('command timed out after 15m on pve2', {
    host: 'pve2',
    timedOut: true,
    detail:
      '[INFO]  Using token K10secret-token-value\n[INFO]  Downloading binary https://github.com/k3s-io/k3s/releases/download/v1.33.5+k3s1/k3s\n',
  });
  await assert.rejects(
    runInstallScript(step, () => Promise.reject(timedOut), { secrets: ['K10secret-token-value'] }),
    {
      name: 'RunError',
      message:
        'no answer from the install script in k3s-worker-2 after 15m; last output: [INFO]  Downloading binary https://github.com/k3s-io/k3s/releases/download/v1.33.5+k3s1/k3s',
    },
  );
  const quiet = new ShellError('command timed out', { host: 'pve2', timedOut: true });
  await assert.rejects(
    runInstallScript(step, () => Promise.reject(quiet), { secrets: [], limitMs: 90_000 }),
    {
      message: 'no answer from the install script in k3s-worker-2 after 1m30s',
    },
  );
});
