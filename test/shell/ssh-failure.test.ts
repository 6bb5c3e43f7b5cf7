import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classifySshStderr, sshFailureHint } from '../../src/shell/ssh-failure.js';

describe('classifySshStderr', () => {
  // Real OpenSSH client messages (9.x) and what they mean for the user.
  const table: Array<[string, string, string]> = [
    ['Host key verification failed.\n', 'host-key', 'host key verification failed'],
    ['@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n', 'host-key', 'host key verification failed'],
    [
      'No ED25519 host key is known for pve1 and you have requested strict checking.\nHost key verification failed.\n',
      'host-key',
      'host key verification failed',
    ],
    ['root@10.0.0.1: Permission denied (publickey).\n', 'auth', 'authentication failed'],
    ['root@10.0.0.1: Permission denied (publickey,password).\n', 'auth', 'authentication failed'],
    ['Received disconnect from 10.0.0.1 port 22:2: Too many authentication failures\n', 'auth', 'authentication failed'],
    ['ssh: Could not resolve hostname pve9: Name or service not known\n', 'network', 'could not resolve the host name'],
    ['ssh: connect to host 10.0.0.1 port 22: Connection refused\n', 'network', 'connection refused'],
    ['ssh: connect to host 10.0.0.1 port 22: Connection timed out\n', 'network', 'connection timed out'],
    ['ssh: connect to host 10.0.0.1 port 22: No route to host\n', 'network', 'no route to host'],
    ['ssh: connect to host 10.0.0.1 port 22: Network is unreachable\n', 'network', 'no route to host'],
    ['Connection to 10.0.0.1 closed by remote host.\n', 'network', 'connection closed by the remote host'],
    ['kex_exchange_identification: read: Connection reset by peer\n', 'network', 'connection closed during the ssh handshake'],
    ['Connection closed by 10.0.0.1 port 22\n', 'network', 'connection closed during the ssh handshake'],
    ['mux_client_request_session: read from master failed: Broken pipe\n', 'network', 'the ssh control connection failed'],
    ['Control socket connect(/tmp/pve-k3s-0/abc): Connection refused\n', 'network', 'the ssh control connection failed'],
    ['Bad owner or permissions on /root/.ssh/config\n', 'config', 'ssh configuration error'],
  ];
  for (const [stderr, kind, reason] of table) {
    test(`${JSON.stringify(stderr.slice(0, 60))} -> ${kind}`, () => {
      assert.deepEqual(classifySshStderr(stderr), { kind, reason });
    });
  }

  test('pct and kubectl errors are not ssh failures', () => {
    for (const s of [
      "container '101' not running!\n",
      "Configuration file 'nodes/pve1/lxc/101.conf' does not exist\n",
      'error: the server doesn\'t have a resource type "nodez"\n',
      '',
    ]) {
      assert.equal(classifySshStderr(s), undefined, s);
    }
  });
});

describe('sshFailureHint', () => {
  test('names the destination and what to do', () => {
    assert.equal(sshFailureHint('host-key', 'root@pve1'), 'connect once with `ssh root@pve1` and verify the key');
    assert.equal(
      sshFailureHint('auth', 'root@pve1'),
      'check that your key is loaded in ssh-agent or set IdentityFile for root@pve1 in ~/.ssh/config',
    );
    assert.equal(sshFailureHint('network', 'root@pve1'), 'check the host is up and reachable: `ssh root@pve1 true`');
  });
});
