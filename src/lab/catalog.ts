/**
 * The lab's release catalog: the channels collection (default: exactly the data of
 * test/fixtures/channels.json) and which versions "exist" for the simulated downloads.
 */
import { compareVersions, minorChannel, tryParseVersion } from '../domain/version.js';

/** A copy of test/fixtures/channels.json, so the lab needs nothing outside src at run time. */
export const DEFAULT_CHANNELS: unknown = {
  type: 'collection',
  links: {
    self: 'https://update.k3s.io/v1-release/channels',
  },
  actions: {},
  resourceType: 'channels',
  data: [
    {
      id: 'stable',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/stable',
      },
      name: 'stable',
      latest: 'v1.33.5+k3s1',
    },
    {
      id: 'latest',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/latest',
      },
      name: 'latest',
      latest: 'v1.34.1+k3s1',
      latestRegexp: '.*',
      excludeRegexp: '(^[^+]+-|v1\\.33\\.4\\+k3s1)',
    },
    {
      id: 'testing',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/testing',
      },
      name: 'testing',
      latest: 'v1.34.2-rc1+k3s1',
      latestRegexp: '-(alpha|beta|rc)',
    },
    {
      id: 'v1.30',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/v1.30',
      },
      name: 'v1.30',
      latest: 'v1.30.14+k3s2',
      latestRegexp: 'v1\\.30\\..*',
      excludeRegexp: '^[^+]+-',
    },
    {
      id: 'v1.31',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/v1.31',
      },
      name: 'v1.31',
      latest: 'v1.31.13+k3s1',
      latestRegexp: 'v1\\.31\\..*',
      excludeRegexp: '^[^+]+-',
    },
    {
      id: 'v1.32',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/v1.32',
      },
      name: 'v1.32',
      latest: 'v1.32.9+k3s1',
      latestRegexp: 'v1\\.32\\..*',
      excludeRegexp: '^[^+]+-',
    },
    {
      id: 'v1.33',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/v1.33',
      },
      name: 'v1.33',
      latest: 'v1.33.5+k3s1',
      latestRegexp: 'v1\\.33\\..*',
      excludeRegexp: '^[^+]+-',
    },
    {
      id: 'v1.34',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/v1.34',
      },
      name: 'v1.34',
      latest: 'v1.34.1+k3s1',
      latestRegexp: 'v1\\.34\\..*',
      excludeRegexp: '^[^+]+-',
    },
    {
      id: 'v1.34-testing',
      type: 'channel',
      links: {
        self: 'https://update.k3s.io/v1-release/channels/v1.34-testing',
      },
      name: 'v1.34-testing',
      latest: 'v1.34.2-rc1+k3s1',
      latestRegexp: 'v1\\.34\\.[0-9]*-(alpha|beta|rc)',
    },
  ],
};

export interface ChannelEntry {
  id: string;
  latest: string;
}

/** The channels of a collection document, tolerant of extra fields; [] when it is not one. */
export function channelEntries(collection: unknown): ChannelEntry[] {
  const data = (collection as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const out: ChannelEntry[] = [];
  for (const d of data as Array<Record<string, unknown>>) {
    const id = typeof d.id === 'string' ? d.id : typeof d.name === 'string' ? d.name : undefined;
    if (id !== undefined && typeof d.latest === 'string') out.push({ id, latest: d.latest });
  }
  return out;
}

export function channelLatest(collection: unknown, id: string): string | undefined {
  return channelEntries(collection).find((c) => c.id === id)?.latest;
}

/**
 * A version exists when it is the latest of some channel, or a lower patch (+k3s1, final) of a
 * minor whose `v1.NN` channel is known.
 */
export function versionExists(collection: unknown, version: string): boolean {
  const v = tryParseVersion(version);
  if (!v) return false;
  const entries = channelEntries(collection);
  if (entries.some((c) => c.latest === version)) return true;
  const minorLatest = entries.find((c) => c.id === minorChannel(v))?.latest;
  const l = minorLatest === undefined ? undefined : tryParseVersion(minorLatest);
  if (!l) return false;
  return v.rc === undefined && v.k3s === 1 && compareVersions(v, l) < 0;
}
