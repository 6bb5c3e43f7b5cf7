/** Resolving the target version: a pinned version, or the latest of a channel (one GET). */
import { UsageError } from '../../domain/errors.js';
import { tryParseVersion } from '../../domain/version.js';
import type { ChannelSet } from '../../channel/channels.js';
import type { PlanTarget } from './planner.js';

export interface TargetChoice {
  /** --k3s-version, or k3s.version from the inventory. */
  version: string | undefined;
  /** --channel, or k3s.channel from the inventory. */
  channel: string;
  channelUrl: string;
}

export interface ResolvedTarget {
  target: PlanTarget;
  /** Fetched channels (undefined when a pinned version made fetching unnecessary so far). */
  channels: ChannelSet | undefined;
  /** Fetches (once) the channels, for a pinned target that needs intermediate minors. */
  loadChannels(): Promise<ChannelSet>;
}

/** How long the channel fetch lets the probes' ssh processes start first (they take ~12 ms, cold). */
export const SPAWN_HEAD_START_MS = 20;

/**
 * Waits for the probes just sent to start their ssh processes: the channel fetch's first call
 * loads Node's HTTP client (~50 ms of CPU), which would hold back their spawns (they come after a
 * few file-system calls: the control directory, the master's socket). The fetch runs beside the
 * probe, which takes far longer, so the wait costs nothing.
 */
export function afterProbeSpawns(): Promise<void> {
  return new Promise((r) => setTimeout(r, SPAWN_HEAD_START_MS));
}

/**
 * The version to upgrade to: `choice.version` when pinned (checked, no request), else the
 * latest release of `choice.channel` from one GET of the channels collection.
 */
export async function resolveTarget(choice: TargetChoice, signal?: AbortSignal): Promise<ResolvedTarget> {
  let cached: Promise<ChannelSet> | undefined;
  // The HTTP client and the channels' parser load with the first fetch: a command that starts its
  // SSH probes first (afterProbeSpawns) loads them while the probes run.
  const loadChannels = () =>
    (cached ??= import('../../channel/client.js').then(({ fetchChannels }) => fetchChannels(choice.channelUrl, signal ? { signal } : {})));
  if (choice.version !== undefined) {
    const v = tryParseVersion(choice.version);
    if (!v)
      throw new UsageError(`--k3s-version ${JSON.stringify(choice.version)} is not a k3s version`, {
        hint: 'use the full form, e.g. v1.31.2+k3s1',
      });
    return { target: { version: v, source: 'pinned' }, channels: undefined, loadChannels };
  }
  const channels = await loadChannels();
  const { channelLatest } = await import('../../channel/channels.js');
  return { target: { version: channelLatest(channels, choice.channel), source: `channel ${choice.channel}` }, channels, loadChannels };
}
