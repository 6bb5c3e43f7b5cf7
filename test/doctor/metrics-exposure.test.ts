/** doctor --metrics: control-plane metrics bound to 127.0.0.1 (k3s's default), exposed, or asked for but not applied yet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricsExposureChecks, parseProcNetTcp } from '../../src/doctor/metrics-exposure.js';

const HEAD4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const HEAD6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const v4 = (i: number, hex: string, st = '0A') =>
  `   ${i}: ${hex} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 1000${i} 1 0000000000000000 100 0 0 10 0`;
const v6 = (i: number, hex: string) =>
  `   ${i}: ${hex} 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2000${i} 1 0000000000000000 100 0 0 10 0`;
const ANY6 = '00000000000000000000000000000000';

function probe(tcp: string[], config = '', etcd = true): string {
  return `@@tcp\n${tcp.join('\n')}\n@@config\n${config}\n@@unit\nExecStart=/usr/local/bin/k3s server --cluster-init\n@@etcd\n${etcd ? 'yes' : ''}\n@@end\n`;
}

test('GIVEN /proc/net/tcp and tcp6 WHEN parsed THEN only LISTEN sockets with their decoded addresses remain', () => {
  const l = parseProcNetTcp(
    [HEAD4, v4(0, '0100007F:2813'), v4(1, '0100007F:094D'), v4(2, '0A00000A:192B', '01'), HEAD6, v6(0, `${ANY6}:192B`)].join('\n'),
  );
  assert.deepEqual(l, [
    { address: '127.0.0.1', port: 10259 },
    { address: '127.0.0.1', port: 2381 },
    { address: '::', port: 6443 },
  ]);
});

test("GIVEN k3s's defaults WHEN checked THEN each component warns, names the issue and the config.yaml key that changes it", () => {
  const r = metricsExposureChecks(
    'k3s-server-1',
    probe([HEAD4, v4(0, '0100007F:2813'), v4(1, '0100007F:2811'), v4(2, '0100007F:094D'), HEAD6, v6(0, `${ANY6}:192B`)]),
  );
  assert.deepEqual(
    r.map((x) => [x.status, x.message]),
    [
      ['warn', 'kube-scheduler metrics listen on 127.0.0.1:10259 only: a Prometheus on another machine cannot scrape them'],
      ['warn', 'kube-controller-manager metrics listen on 127.0.0.1:10257 only: a Prometheus on another machine cannot scrape them'],
      ['warn', 'etcd metrics listen on 127.0.0.1:2381 only: a Prometheus on another machine cannot scrape them'],
    ],
  );
  assert.equal(r[0]?.cause, 'k3s binds them to 127.0.0.1 by default (k3s-io/k3s #3619, #425)');
  assert.match(r[0]?.fix ?? '', /kube-scheduler-arg: \["bind-address=0\.0\.0\.0"\]/);
  assert.match(r[1]?.fix ?? '', /kube-controller-manager-arg: \["bind-address=0\.0\.0\.0"\]/);
  assert.match(r[2]?.fix ?? '', /etcd-expose-metrics: true/);
});

test('GIVEN the keys set but k3s not restarted WHEN checked THEN it says a restart applies them; once listening on any address THEN ok', () => {
  const config =
    'kube-scheduler-arg:\n  - "bind-address=0.0.0.0"\nkube-controller-manager-arg: ["bind-address=0.0.0.0"]\netcd-expose-metrics: true\n';
  const before = metricsExposureChecks(
    's1',
    probe([HEAD4, v4(0, '0100007F:2813'), v4(1, '0100007F:2811'), v4(2, '0100007F:094D')], config),
  );
  assert.deepEqual(
    before.map((x) => x.fix),
    [
      'restart k3s on this server (systemctl restart k3s), one server at a time',
      'restart k3s on this server (systemctl restart k3s), one server at a time',
      'restart k3s on this server (systemctl restart k3s), one server at a time',
    ],
  );
  const after = metricsExposureChecks(
    's1',
    probe([HEAD4, v4(0, '00000000:094D'), HEAD6, v6(0, `${ANY6}:2813`), v6(1, `${ANY6}:2811`)], config),
  );
  assert.deepEqual(
    after.map((x) => [x.status, x.message]),
    [
      ['ok', 'kube-scheduler metrics on port 10259 listen on ::'],
      ['ok', 'kube-controller-manager metrics on port 10257 listen on ::'],
      ['ok', 'etcd metrics on port 2381 listen on 0.0.0.0'],
    ],
  );
});

test('GIVEN a SQLite server or an unreadable /proc WHEN checked THEN etcd is skipped, or everything is', () => {
  const r = metricsExposureChecks('s1', probe([HEAD4, v4(0, '0100007F:2813'), v4(1, '0100007F:2811')], '', false));
  assert.deepEqual(
    r.map((x) => x.status),
    ['warn', 'warn', 'skip'],
  );
  assert.equal(metricsExposureChecks('s1', probe([], '', false))[0]?.status, 'skip');
  assert.equal(metricsExposureChecks('s1', undefined)[0]?.status, 'skip');
});
