/** The Kubernetes version skew rules, checked on the cluster a plan would leave (pure). */
import { compareVersions, minorChannel, type K3sVersion } from '../../domain/version.js';

/** A node, as the skew rules see it: its name (the versions are in the simulated state). */
type N = { f: { name: string } };

/** A skew violation the plan would introduce. */
export interface Violation {
  line: string;
  /** The nodes the rule is between. */
  nodes: string[];
}

/**
 * Kubernetes skew rules on the simulated state: an agent's kubelet must not be newer (by
 * minor) than the oldest apiserver, and apiservers stay within one minor of each other. A
 * server's own kubelet is exempt: it ships in the same binary as its apiserver, so a rolling
 * server upgrade necessarily runs it next to older apiservers for a moment (k3s upgrade docs).
 * Returns violations keyed by what breaks, so ones the cluster already had are not blamed on the plan.
 */
export function findSkew(
  { servers, agents }: { servers: readonly N[]; agents: readonly N[] },
  /** The simulated state: each node's installed and kubelet version. */
  { cur, kubelet }: { cur: Map<string, K3sVersion>; kubelet: Map<string, K3sVersion> },
): Map<string, { text: string; nodes: string[] }> {
  const found = new Map<string, { text: string; nodes: string[] }>();
  const serverVersions = servers.map((s) => ({ name: s.f.name, v: cur.get(s.f.name)! }));
  const oldest = serverVersions.reduce((a, b) => (compareVersions(a.v, b.v) <= 0 ? a : b));
  const newest = serverVersions.reduce((a, b) => (compareVersions(a.v, b.v) >= 0 ? a : b));
  if (newest.v.minor - oldest.v.minor > 1) {
    found.set('apiservers', {
      text: `apiserver ${newest.name} (${minorChannel(newest.v)}) would be more than one minor ahead of ${oldest.name} (${minorChannel(oldest.v)})`,
      nodes: serverVersions.filter((s) => newest.v.minor - s.v.minor > 1).map((s) => s.name),
    });
  }
  for (const a of agents) {
    const k = kubelet.get(a.f.name)!;
    if (k.minor > oldest.v.minor) {
      found.set(`kubelet:${a.f.name}`, {
        text: `the kubelet on ${a.f.name} (${minorChannel(k)}) would be newer than the apiserver on ${oldest.name} (${minorChannel(oldest.v)})`,
        // The servers it is newer than (and the agent itself, when it is the one held back).
        nodes: [a.f.name, ...serverVersions.filter((s) => k.minor > s.v.minor).map((s) => s.name)],
      });
    }
  }
  return found;
}
