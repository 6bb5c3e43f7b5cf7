/**
 * `doctor --metrics`: can a Prometheus outside the server scrape k3s's own control-plane
 * metrics? k3s binds kube-scheduler (10259) and kube-controller-manager (10257) to 127.0.0.1 and
 * serves etcd's metrics (2381) on 127.0.0.1 only (k3s-io/k3s issues #3619, #425). Read from
 * each server's listening sockets (/proc/net/tcp and tcp6, always there in a container) and its
 * config (config.yaml and config.yaml.d), so the check tells "not set" from "set, not applied
 * until k3s restarts". Pure apart from the script it asks the caller to run.
 */
import type { CheckResult } from './doctor.js';

export const CONFIG_YAML = '/etc/rancher/k3s/config.yaml';

export const METRICS_SCRIPT = [
  'echo @@tcp',
  'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null',
  'echo @@config',
  `cat ${CONFIG_YAML} ${CONFIG_YAML}.d/*.yaml 2>/dev/null`,
  'echo @@unit',
  'cat /etc/systemd/system/k3s.service 2>/dev/null',
  'echo @@etcd',
  'test -d /var/lib/rancher/k3s/server/db/etcd && echo yes',
  'echo @@end',
  'true',
].join('\n');

export interface Component {
  name: string;
  port: number;
  /** The config.yaml lines that expose it. */
  configKey: string;
  /** Present in `config.yaml`/unit args when asked for (a regex on the text). */
  asked: RegExp;
  etcdOnly?: boolean;
}

export const COMPONENTS: Component[] = [
  {
    name: 'kube-scheduler',
    port: 10259,
    configKey: 'kube-scheduler-arg: ["bind-address=0.0.0.0"]',
    asked: /kube-scheduler-arg[\s\S]{0,80}?bind-address=(?!127\.0\.0\.1)/,
  },
  {
    name: 'kube-controller-manager',
    port: 10257,
    configKey: 'kube-controller-manager-arg: ["bind-address=0.0.0.0"]',
    asked: /kube-controller-manager-arg[\s\S]{0,80}?bind-address=(?!127\.0\.0\.1)/,
  },
  {
    name: 'etcd',
    port: 2381,
    configKey: 'etcd-expose-metrics: true',
    asked: /etcd-expose-metrics[:=]\s*(["']?)true\1|--etcd-expose-metrics(?![=\w-])/,
    etcdOnly: true,
  },
];

export interface Listener {
  address: string;
  port: number;
}

/** LISTEN sockets (state 0A) of /proc/net/tcp and tcp6. */
export function parseProcNetTcp(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== '0A') continue;
    const [hexAddr, hexPort] = (f[1] ?? '').split(':');
    if (!hexAddr || !hexPort) continue;
    out.push({ address: decodeAddress(hexAddr), port: parseInt(hexPort, 16) });
  }
  return out;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    // little-endian IPv4
    const b = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return b.join('.');
  }
  if (/^0{32}$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (/^0000000000000000FFFF0000/i.test(hex)) return `::ffff:${decodeAddress(hex.slice(24))}`;
  return hex;
}

const loopback = (a: string) => a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');

function section(text: string, name: string): string {
  const i = text.indexOf(`@@${name}\n`);
  if (i < 0) return '';
  const rest = text.slice(i + name.length + 3);
  const j = rest.indexOf('\n@@');
  return j < 0 ? rest : rest.slice(0, j);
}

/** One result per component for one server, from METRICS_SCRIPT's output (undefined = not probed). */
export function metricsExposureChecks(node: string, stdout: string | undefined): CheckResult[] {
  const check = 'metrics-exposure';
  if (stdout === undefined) return [{ check, scope: node, status: 'skip', message: 'the server could not be probed' }];
  const tcp = section(stdout, 'tcp');
  const config = `${section(stdout, 'config')}\n${section(stdout, 'unit')}`;
  const etcd = section(stdout, 'etcd').trim() === 'yes';
  const listeners = parseProcNetTcp(tcp);
  if (!/\bsl\s+local_address/.test(tcp))
    return [
      { check, scope: node, status: 'skip', message: 'cannot read /proc/net/tcp in the container, so the listening addresses are unknown' },
    ];
  const out: CheckResult[] = [];
  for (const c of COMPONENTS) {
    if (c.etcdOnly && !etcd) {
      out.push({ check, scope: node, status: 'skip', message: `${c.name}: not used (the datastore is SQLite)` });
      continue;
    }
    const on = listeners.filter((l) => l.port === c.port);
    const asked = c.asked.test(config);
    const reachable = on.filter((l) => !loopback(l.address));
    if (reachable.length > 0) {
      out.push({
        check,
        scope: node,
        status: 'ok',
        message: `${c.name} metrics on port ${c.port} listen on ${reachable.map((l) => l.address).join(', ')}`,
      });
    } else if (on.length === 0) {
      out.push({
        check,
        scope: node,
        status: 'warn',
        message: `${c.name} does not listen on port ${c.port}`,
        cause: 'the component is not running on this server, or k3s runs it with other ports',
        fix: `pct exec into the node and look at: journalctl -u k3s | grep ${c.name}`,
      });
    } else if (asked) {
      out.push({
        check,
        scope: node,
        status: 'warn',
        message: `${c.name} metrics still listen on ${on.map((l) => l.address).join(', ')}:${c.port} only, though the configuration asks for more`,
        cause: 'k3s reads config.yaml only when it starts',
        fix: 'restart k3s on this server (systemctl restart k3s), one server at a time',
      });
    } else {
      out.push({
        check,
        scope: node,
        status: 'warn',
        message: `${c.name} metrics listen on ${on.map((l) => l.address).join(', ')}:${c.port} only: a Prometheus on another machine cannot scrape them`,
        cause: `k3s binds them to 127.0.0.1 by default (k3s-io/k3s #3619, #425)`,
        fix: `add to ${CONFIG_YAML} on every server: ${c.configKey}, then restart k3s one server at a time (${c.port === 2381 ? 'plain HTTP' : 'HTTPS, needs a token with get on /metrics'}; firewall it to your Prometheus)`,
      });
    }
  }
  return out;
}
