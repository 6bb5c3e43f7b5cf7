/**
 * The admin kubeconfig of a k3s server made usable from the user's machine (pure): the server
 * URL (k3s writes https://127.0.0.1:6443) points at an address the user can reach, and the
 * cluster, user and context called `default` take the context name, so it merges into
 * ~/.kube/config beside other clusters, as k3sup's `--merge --context` does.
 */
import { ResponseError } from '../domain/errors.js';

export interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> & { server?: string } }>;
  contexts?: Array<{ name: string; context: Record<string, unknown> & { cluster?: string; user?: string } }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  'current-context'?: string;
  preferences?: Record<string, unknown>;
  [k: string]: unknown;
}

const LOCAL = /^https:\/\/(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])(:\d+)?\/?$/;

/** Renames everything to `name` and points the server at `address` (host or IP; port kept). */
export function rewriteKubeconfig(doc: KubeconfigDoc, address: string, name: string): KubeconfigDoc {
  const clusters = doc.clusters ?? [];
  const users = doc.users ?? [];
  const contexts = doc.contexts ?? [];
  if (clusters.length !== 1 || users.length !== 1)
    throw new ResponseError(`expected one cluster and one user in k3s.yaml, found ${clusters.length} and ${users.length}`);
  const c = clusters[0]!;
  const u = users[0]!;
  const server = c.cluster.server ?? '';
  const local = server === '' || LOCAL.test(server);
  const port = URL.canParse(server) ? new URL(server).port || '6443' : '6443';
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  const ctx = contexts[0]?.context ?? {};
  return {
    apiVersion: doc.apiVersion ?? 'v1',
    kind: doc.kind ?? 'Config',
    clusters: [{ name, cluster: { ...c.cluster, server: local ? `https://${host}:${port}` : server } }],
    contexts: [{ name, context: { ...ctx, cluster: name, user: name } }],
    users: [{ name, user: u.user }],
    'current-context': name,
    preferences: doc.preferences ?? {},
  };
}

/** Merges `ours` into `existing`: entries with our name are replaced, others kept; current context is ours. */
export function mergeKubeconfig(existing: KubeconfigDoc | undefined, ours: KubeconfigDoc): KubeconfigDoc {
  if (!existing) return ours;
  const name = ours['current-context'] ?? '';
  const keep = <T extends { name: string }>(list: T[] | undefined) => (list ?? []).filter((e) => e.name !== name);
  return {
    ...existing,
    apiVersion: existing.apiVersion ?? 'v1',
    kind: existing.kind ?? 'Config',
    clusters: [...keep(existing.clusters), ...(ours.clusters ?? [])],
    contexts: [...keep(existing.contexts), ...(ours.contexts ?? [])],
    users: [...keep(existing.users), ...(ours.users ?? [])],
    'current-context': name,
  };
}
