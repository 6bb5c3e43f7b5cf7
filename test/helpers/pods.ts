/** Pods the tests put on a lab node, each for what it makes a command do. */
import type { Pod } from '../../src/lab/types.js';

/**
 * A pod no controller owns, on `node`: `kubectl drain` refuses to evict it without --force
 * ("cannot delete Pods that declare no controller"). `default/debug` unless named.
 */
export function unmanagedPod(o: { node: string; name?: string; createdAt?: number; uid?: string }): Pod {
  const name = o.name ?? 'debug';
  return {
    namespace: 'default',
    name,
    app: name,
    owner: undefined,
    emptyDir: false,
    node: o.node,
    createdAt: o.createdAt ?? Date.now(),
    uid: o.uid ?? `${name}-uid`,
  };
}

/** The pod `--blocking-pod-selector app=backup,tier=batch` waits for: `ops/nightly-backup` on `node`. */
export function backupPod(node: string): Pod {
  return {
    namespace: 'ops',
    name: 'nightly-backup',
    app: 'backup',
    owner: undefined,
    emptyDir: false,
    node,
    createdAt: 0,
    uid: 'b4c1',
    labels: { tier: 'batch' },
  };
}
