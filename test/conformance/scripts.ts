/**
 * Every script the product sends to a shell, built by the product's own builders from
 * generated inputs (fast-check): hostile node names, tokens with ' $ ` % and newlines.
 */
import fc from 'fast-check';
import { buildBatch, buildNestedBatch } from '../../src/proxmox/batch.js';
import { sessionRequest } from '../../src/shell/session.js';
import { quoteCommand } from '../../src/shell/quote.js';
import { drainArgs, KUBECTL } from '../../src/kube/kube.js';
import { buildInstallScript, saveInstallScriptArgv, UNIT_DIR } from '../../src/k3s/install-config.js';
import { NODE_SCRIPT } from '../../src/doctor/doctor.js';
import { pullScript } from '../../src/backup/backup.js';
import { probeArgv } from '../../src/discover/roles.js';
import { DEFAULT_DRAIN } from '../../src/inventory/defaults.js';

export interface ProductScript {
  /** The builder it comes from. */
  builder: string;
  /** What is fed to `sh -s` on stdin. */
  script: string;
}

const hostile = fc.string({
  unit: fc.constantFrom('a', 'k', '3', '-', '.', ' ', "'", '"', '$', '`', '%', '\\', '\n', ';', '&', '|', '*', '?', '#', '(', ')', 'é'),
  minLength: 1,
  maxLength: 12,
});
const nodeName = fc.oneof(fc.constantFrom('k3s-worker-1', 'k3s-ctrl-1'), hostile);
const token = fc.oneof(fc.constant('K10abc::server:s3cr3t'), hostile);
const vmid = fc.integer({ min: 100, max: 999 });
const nonce = fc.stringMatching(/^[0-9a-f]{8,16}$/);

/** Each builder and the arbitrary of its scripts. */
export const BUILDERS: Record<string, fc.Arbitrary<string>> = {
  'facts probe (host batch, parallel)': fc
    .tuple(fc.array(vmid, { minLength: 1, maxLength: 4 }), vmid, nonce)
    .map(
      ([vmids, ctl, n]) =>
        buildBatch(
          [
            { argv: ['pct', 'list'] },
            ...vmids.map((v) => ({ argv: ['pct', 'exec', String(v), '--', '/usr/local/bin/k3s', '--version'] })),
            { argv: ['pct', 'exec', String(ctl), '--', KUBECTL, 'get', 'nodes', '-o', 'json'] },
          ],
          { parallel: 8, nonce: n },
        ).script,
    ),
  "facts probe with the controller's reads nested (host batch, parallel)": fc
    .tuple(fc.array(vmid, { minLength: 1, maxLength: 4 }), vmid, nodeName, nonce)
    .map(
      ([vmids, ctl, node, n]) =>
        buildBatch(
          [
            { argv: ['pct', 'list'] },
            ...vmids.map((v) => ({ argv: ['pct', 'exec', String(v), '--', '/usr/local/bin/k3s', '--version'] })),
            { argv: controllerReads(ctl, node).argv },
          ],
          { parallel: 8, widen: true, nonce: n },
        ).script,
    ),
  "the controller's reads (the nested script, run by the container's sh)": fc
    .tuple(vmid, nodeName)
    .map(([ctl, node]) => controllerReads(ctl, node).argv.at(-1)!),
  'kube batch (annotate then drain, stop on failure)': fc
    .tuple(nodeName, nonce)
    .map(
      ([node, n]) =>
        buildBatch(
          [
            { argv: [KUBECTL, 'annotate', 'node', node, `pve-k3s.io/cordoned-for-upgrade=v1.33.5+k3s1`, '--overwrite'] },
            { argv: [KUBECTL, ...drainArgs(node, DEFAULT_DRAIN)] },
          ],
          { stopOnFailure: true, nonce: n },
        ).script,
    ),
  'health gate (waits, kubelet healthz)': fc.tuple(nodeName, nonce).map(
    ([node, n]) =>
      buildBatch(
        [
          ...['--for=jsonpath={.status.nodeInfo.kubeletVersion}=v1.33.5+k3s1', '--for=condition=Ready'].map((c) => ({
            argv: [KUBECTL, 'wait', c, `node/${node}`, '--timeout=10s'],
          })),
          { argv: [KUBECTL, 'get', '--raw', `/api/v1/nodes/${node}/proxy/healthz`] },
          { argv: [KUBECTL, 'uncordon', node] },
        ],
        { stopOnFailure: true, nonce: n },
      ).script,
  ),
  'session request (a command, a script with a token)': fc
    .tuple(token, nonce, fc.nat(50))
    .map(([t, n, id]) =>
      sessionRequest(
        `set -e\nK3S_TOKEN=${quoteCommand([t])}\nexport K3S_TOKEN\n${quoteCommand(['systemctl', 'is-active', 'k3s'])}\n`,
        n,
        id,
      ),
    ),
  'install wrapper (download)': fc.tuple(token, nodeName, fc.array(hostile, { maxLength: 3 })).map(([t, node, args]) =>
    buildInstallScript({
      config: { role: 'agent', args, env: { K3S_URL: 'https://10.0.20.20:6443', K3S_TOKEN: t, K3S_NODE_NAME: node } } as never,
      version: 'v1.33.5+k3s1',
      installScriptUrl: 'https://get.k3s.io',
    }),
  ),
  'install wrapper (air gap, script saved ahead)': fc.tuple(token, fc.array(hostile, { maxLength: 3 })).map(([t, args]) =>
    buildInstallScript({
      config: { role: 'server', args, env: { K3S_TOKEN: t } } as never,
      version: 'v1.33.5+k3s1',
      installScriptUrl: 'file:///var/lib/pve-k3s/airgap/install.sh',
      installEnv: { INSTALL_K3S_SKIP_DOWNLOAD: 'true' },
      scriptSaved: true,
    } as never),
  ),
  'read-ahead (unit files, install script saved)': fc
    .tuple(nonce, fc.constantFrom('https://get.k3s.io', "https://mirror.example/it's%20here"))
    .map(
      ([n, url]) =>
        buildBatch(
          [
            ...['k3s.service', 'k3s.service.env', 'k3s-agent.service', 'k3s-agent.service.env'].map((f) => ({
              argv: ['cat', `${UNIT_DIR}/${f}`],
            })),
            { argv: saveInstallScriptArgv(url) },
          ],
          n,
        ).script,
    ),
  'doctor host script (parallel)': fc
    .tuple(fc.array(vmid, { minLength: 1, maxLength: 3 }), nonce)
    .map(
      ([vmids, n]) =>
        buildBatch(
          [
            { argv: ['cat', '/etc/pve/storage.cfg'] },
            { argv: ['cat', '/proc/modules'] },
            ...vmids.map((v) => ({ argv: ['cat', `/etc/pve/lxc/${v}.conf`] })),
            ...vmids.map((v) => ({ argv: ['pct', 'exec', String(v), '--', 'sh', '-c', NODE_SCRIPT] })),
          ],
          { parallel: 8, nonce: n },
        ).script,
    ),
  'doctor node script': fc.constant(NODE_SCRIPT + '\n'),
  'backup pull (sqlite3, offline, etcd)': fc
    .tuple(
      fc.constantFrom(['sqlite', 'sqlite3'], ['sqlite', 'offline'], ['etcd', 'sqlite3']) as fc.Arbitrary<string[]>,
      fc.stringMatching(/^[a-z0-9-]{1,20}$/),
      nonce,
    )
    .map(([[ds, how], name, n]) => pullScript({ datastore: ds as never, how: how as never, snapshotName: `pve-k3s-${name}`, nonce: n })),
  'restore upload': fc
    .constantFrom('/var/lib/rancher/k3s/server/token', '/var/lib/rancher/k3s/server/db/state.db')
    .map((dest) => `${quoteCommand(['sh', '-c', 'base64 -d > "$1" && chmod 600 "$1"', 'sh', dest])}\n`),
  'discover probe': fc
    .tuple(vmid, nonce)
    .map(([v, n]) => buildBatch([{ argv: ['hostname'] }, { argv: probeArgv(v) }], { parallel: 8, nonce: n }).script),
};

/** The facts probe's controller reads: get nodes, the lease, the controller's node, nested in one pct exec. */
function controllerReads(ctl: number, node: string) {
  return buildNestedBatch(
    ['pct', 'exec', String(ctl), '--'],
    [
      ['get', 'nodes', '-o', 'json'],
      ['get', 'lease', 'pve-k3s-lab', '-n', 'kube-system', '-o', 'json'],
      ['get', 'node', node, '-o', 'json'],
    ].map((a) => ({ argv: [KUBECTL, ...a] })),
  );
}
