/**
 * Minor by minor (pure): a cluster more than one minor behind the target goes through the
 * latest release of each minor in between (the channel server's v1.NN channels), since
 * Kubernetes minors cannot be skipped.
 */
import { PlanError } from '../../domain/errors.js';
import { minorChannel, type K3sVersion } from '../../domain/version.js';
import { type ReleaseIndex as ChannelSet, latestOfMinor } from '../../domain/release-index.js';
import type { CheckedNode as N } from './node-checks.js';

/** The versions to go through: the latest of each skipped minor, then the target. */
export function stepVersions(nodes: readonly N[], T: K3sVersion, channels: ChannelSet | undefined): K3sVersion[] {
  if (nodes.length === 0) return [T];
  const lowMinor = Math.min(...nodes.map((n) => n.v.minor));
  const out: K3sVersion[] = [];
  for (let m = lowMinor + 1; m < T.minor; m++) {
    const v = channels ? latestOfMinor(channels, { major: T.major, minor: m }) : undefined;
    if (!v) {
      const name = minorChannel({ major: T.major, minor: m });
      throw new PlanError(
        `the cluster runs v${T.major}.${lowMinor} and the target is ${T.raw}: minor versions cannot be skipped, and ${channels ? `the channel server lists no ${name} channel` : `the channel server was not asked for the ${name} release`}`,
        {
          reason: 'no-intermediate-release',
          hint: `upgrade to a ${name} release first (--k3s-version), or check k3s.channelUrl`,
        },
      );
    }
    out.push(v);
  }
  out.push(T);
  return out;
}
