import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReason } from '../../src/shell/reason.js';

const KUBECTL_DRAIN_ERROR = [
  'error: unable to drain node "k3s-worker-1" due to error: cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-0, continuing command...',
  'There are pending nodes to be drained:',
  ' k3s-worker-1',
  'error: cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-0',
].join('\n');

test('GIVEN a failed command WHEN its reason is asked THEN it is all of its stderr, not the last line of its stdout', () => {
  const r = { code: 1, stdout: 'node/k3s-worker-1 cordoned\n', stderr: `${KUBECTL_DRAIN_ERROR}\n` };
  assert.equal(failureReason(r), KUBECTL_DRAIN_ERROR);
});

test('GIVEN a command that said nothing on stderr WHEN its reason is asked THEN its stdout, else its exit status', () => {
  assert.equal(failureReason({ code: 3, stdout: 'inactive\n', stderr: ' \n' }), 'inactive');
  assert.equal(failureReason({ code: 3, stdout: '', stderr: '' }), 'exit status 3');
});

test('GIVEN noisy stderr WHEN its reason is asked THEN blank edges go, repeats are counted, long lines and long texts are cut', () => {
  const retry =
    'error when evicting pods/"vault-0" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.';
  const stderr = `\n\n${[retry, retry, retry].join('\n')}\nerror: global timeout reached: 20s\n\n`;
  assert.equal(failureReason({ code: 1, stdout: '', stderr }), `${retry} (3 times)\nerror: global timeout reached: 20s`);
  const long = 'x'.repeat(1000);
  assert.equal(failureReason({ code: 1, stdout: '', stderr: long }), `${'x'.repeat(399)}…`);
  const many = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
  const cut = failureReason({ code: 1, stdout: '', stderr: many }).split('\n');
  assert.equal(cut.length, 20);
  assert.deepEqual(cut.slice(0, 2), ['line 0', 'line 1']);
  assert.equal(cut[8], '… (31 more lines)');
  assert.equal(cut[19], 'line 49');
});

test('GIVEN warnings beside the error WHEN the reason is asked THEN the warnings are left out, unless they are all there is', () => {
  const stderr =
    'Warning: ignoring DaemonSet-managed Pods: kube-system/svclb-1\nW0102 15:04:05.000000 1 warnings.go:70] deprecated\nerror: the real one\n';
  assert.equal(failureReason({ code: 1, stdout: '', stderr }), 'error: the real one');
  assert.equal(failureReason({ code: 1, stdout: '', stderr: 'Warning: only this\n' }), 'Warning: only this');
  assert.equal(failureReason({ code: 1, stdout: '', stderr: 'a\n  b  \n\nc\n' }, { singleLine: true }), 'a; b; c');
});
