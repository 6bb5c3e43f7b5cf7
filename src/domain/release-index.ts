/**
 * A release index: which k3s version each channel points at. The channel server client
 * (src/channel/channels.ts) implements it; the planner reads it and nothing else.
 */
import { type K3sVersion, minorChannel } from './version.js';

export interface ReleaseIndex {
  /** Where it was read from, for messages. */
  readonly url: string;
  /** Channel id -> latest version, for every channel whose `latest` is a valid k3s version. */
  readonly channels: ReadonlyMap<string, K3sVersion>;
  /** Channel id -> the raw `latest` text for channels whose value was NOT a valid version. */
  readonly invalid: ReadonlyMap<string, string>;
}

/** The latest release of one minor (its `v1.NN` channel), or undefined if the index has none. */
export function latestOfMinor(set: ReleaseIndex, v: Pick<K3sVersion, 'major' | 'minor'>): K3sVersion | undefined {
  const latest = set.channels.get(minorChannel(v));
  return latest && latest.major === v.major && latest.minor === v.minor ? latest : undefined;
}
