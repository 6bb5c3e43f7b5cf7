import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyKubectl, kubeError } from '../../src/kube/kube-error.js';
import { KubeError } from '../../src/domain/errors.js';

// kubectl's own words (k8s.io/kubectl CheckErr and cobra), as it prints them on stderr.
const CASES: Array<[string, number, string, string]> = [
  ['refused', 1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?', 'refused'],
  ['dial refused', 1, 'Unable to connect to the server: dial tcp 10.0.20.20:6443: connect: connection refused', 'refused'],
  ['no route', 1, 'Unable to connect to the server: dial tcp 10.0.20.20:6443: connect: no route to host', 'unreachable'],
  ['no such host', 1, 'Unable to connect to the server: dial tcp: lookup k3s.example on 127.0.0.53:53: no such host', 'unreachable'],
  ['tls timeout', 1, 'Unable to connect to the server: net/http: TLS handshake timeout', 'unreachable'],
  [
    'client timeout',
    1,
    'Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded while awaiting headers)',
    'timeout',
  ],
  ['not found', 1, 'Error from server (NotFound): nodes "k3s-worker-9" not found', 'not-found'],
  ['forbidden', 1, 'Error from server (Forbidden): nodes is forbidden: User "system:anonymous" cannot list resource "nodes"', 'forbidden'],
  ['unauthorized', 1, 'error: You must be logged in to the server (Unauthorized)', 'forbidden'],
  [
    'conflict',
    1,
    'Error from server (Conflict): Operation cannot be fulfilled on leases.coordination.k8s.io "lab": the object has been modified; please apply your changes to the latest version and try again',
    'conflict',
  ],
  ['already exists', 1, 'Error from server (AlreadyExists): leases.coordination.k8s.io "lab" already exists', 'already-exists'],
  ['invalid', 1, 'The Lease "lab" is invalid: spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0', 'invalid'],
  ['bad request', 1, 'Error from server (BadRequest): the server rejected our request for an unknown reason', 'invalid'],
  ['server timeout', 1, 'Error from server (Timeout): the server was unable to return a response in the time allotted', 'timeout'],
  ['wait timeout', 1, 'error: timed out waiting for the condition on nodes/k3s-worker-1', 'timeout'],
  ['unknown flag', 1, "error: unknown flag: --for-real\nSee 'kubectl wait --help' for usage.", 'usage'],
  ['unknown shorthand', 1, "error: unknown shorthand flag: 'z' in -z\nSee 'kubectl get --help' for usage.", 'usage'],
  ['unknown command', 1, 'Error: unknown command "frobnicate" for "kubectl"', 'usage'],
  ['bad flag value', 1, 'error: invalid argument "x" for "--timeout" flag: time: invalid duration "x"', 'usage'],
  ['no resource type', 1, 'error: the server doesn\'t have a resource type "leases"', 'not-found'],
  ['proxy error', 1, 'Error from server: error dialing backend: dial tcp k3s-worker-1:10250: connect: connection refused', 'other'],
  ['unavailable', 1, 'Error from server (ServiceUnavailable): the server is currently unable to handle the request', 'other'],
  ['container stopped', 255, "container '100' not running!", 'unreachable'],
  ['wrong host', 255, "Configuration file 'nodes/pve1/lxc/100.conf' does not exist", 'unreachable'],
];

for (const [name, code, stderr, reason] of CASES) {
  test(`GIVEN kubectl's "${name}" WHEN classified THEN it is ${reason}, in kubectl's own words`, () => {
    assert.deepEqual(classifyKubectl(code, stderr, ''), { reason, text: stderr.split('\n')[0] });
  });
}

test("GIVEN kubectl's data on stdout beside its error on stderr WHEN classified THEN the reason is read from stderr only", () => {
  const stderr = 'W0101 warnings.go:70] something deprecated\nError from server (NotFound): nodes "x" not found\n';
  assert.deepEqual(classifyKubectl(1, stderr, 'node/x cordoned\n'), {
    reason: 'not-found',
    text: 'Error from server (NotFound): nodes "x" not found',
  });
  // A stdout that happens to look like an error is data, not kubectl's answer.
  assert.equal(classifyKubectl(1, 'error: something else\n', 'Error from server (NotFound): a pod logged this\n').reason, 'other');
  // Nothing on stderr at all: stdout is all there is to read.
  assert.equal(classifyKubectl(1, '', 'Error from server (NotFound): nodes "x" not found\n').reason, 'not-found');
});

test('GIVEN a refusal and a NotFound in one output WHEN classified THEN the refusal wins (the API did not answer)', () => {
  const f = classifyKubectl(1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?', '');
  assert.equal(f.reason, 'refused');
  // "not found" inside a connection error is not the API's NotFound.
  assert.equal(
    classifyKubectl(1, 'Unable to connect to the server: dial tcp: lookup x: no such host (not found)', '').reason,
    'unreachable',
  );
});

test('GIVEN "container not running!" with exit 1 (the command said it, not pct) WHEN classified THEN other', () => {
  assert.equal(classifyKubectl(1, "container '100' not running!", '').reason, 'other');
});

test('GIVEN output nobody knows WHEN classified THEN other, with all of its stderr; no output at all says the exit status', () => {
  assert.deepEqual(classifyKubectl(2, 'first\nsecond\n', 'data\n'), { reason: 'other', text: 'first\nsecond' });
  assert.deepEqual(classifyKubectl(137, '', ''), { reason: 'other', text: 'exit status 137' });
});

test('GIVEN a refused kubectl WHEN made a KubeError THEN the message names the command and the controller, the hint says what to do', () => {
  const err = kubeError(
    ['get', 'node', 'k3s-ctrl-1', '-o', 'json'],
    { code: 1, stdout: '', stderr: 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n' },
    { controller: 'k3s-ctrl-1', vmid: 100, host: 'pve1' },
  );
  assert.ok(err instanceof KubeError);
  assert.equal(err.reason, 'refused');
  assert.equal(err.exitStatus, 1);
  assert.equal(err.permanent, false);
  assert.equal(
    err.message,
    'kubectl get node k3s-ctrl-1 on k3s-ctrl-1: The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?',
  );
  assert.equal(
    err.hint,
    'the Kubernetes API on k3s-ctrl-1 refuses connections: k3s is stopped or restarting there (pct exec 100 -- systemctl status k3s, on pve1); check it with pve-k3s status, or set `controller:` to another server',
  );
});

test('GIVEN NotFound, Forbidden, Invalid or a usage error WHEN made a KubeError THEN it is permanent; refused, timeout, other are not', () => {
  const make = (stderr: string) => kubeError(['get', 'x'], { code: 1, stdout: '', stderr }, { controller: 'c' });
  assert.equal(make('Error from server (NotFound): nodes "x" not found').permanent, true);
  assert.equal(make('Error from server (Forbidden): nodes is forbidden').permanent, true);
  assert.equal(make('The Lease "lab" is invalid: spec: Required value').permanent, true);
  assert.equal(make('error: unknown flag: --x').permanent, true);
  assert.equal(make('error: timed out waiting for the condition on nodes/x').permanent, false);
  assert.equal(make('Error from server (ServiceUnavailable): try again').permanent, false);
  assert.equal(make('Unable to connect to the server: net/http: TLS handshake timeout').permanent, false);
});
