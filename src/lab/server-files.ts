/** What a k3s server that came up leaves in its container: the token files and the admin kubeconfig. */
import { mkdirp } from './vfs.js';
import type { ContainerState, LabState } from './types.js';

export const TOKEN_FILE = '/var/lib/rancher/k3s/server/token';
export const NODE_TOKEN_FILE = '/var/lib/rancher/k3s/server/node-token';
export const KUBECONFIG_FILE = '/etc/rancher/k3s/k3s.yaml';

/** A k3s.yaml as k3s writes it: cluster, context and user all named `default`, API on 127.0.0.1. */
export function kubeconfigYaml(seed: string): string {
  const b64 = (x: string) => Buffer.from(x).toString('base64');
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(`-----BEGIN CERTIFICATE-----\nlab CA ${seed}\n-----END CERTIFICATE-----\n`)}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${b64(`-----BEGIN CERTIFICATE-----\nlab admin ${seed}\n-----END CERTIFICATE-----\n`)}
    client-key-data: ${b64(`-----BEGIN EC PRIVATE KEY-----\nlab key ${seed}\n-----END EC PRIVATE KEY-----\n`)}
`;
}

/** The token files and the admin kubeconfig (each kept when present), for the lab's token and cluster. */
export function ensureServerFiles(s: Pick<LabState, 'token' | 'cluster'>, ct: ContainerState): void {
  mkdirp(ct.fs, '/var/lib/rancher/k3s/server');
  mkdirp(ct.fs, '/etc/rancher/k3s');
  ct.fs[TOKEN_FILE] ??= { content: `${s.token}\n`, mode: 0o600 };
  ct.fs[NODE_TOKEN_FILE] ??= { content: `${s.token}\n`, mode: 0o600 };
  ct.fs[KUBECONFIG_FILE] ??= { content: kubeconfigYaml(s.cluster), mode: 0o600 };
}
