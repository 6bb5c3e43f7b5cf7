/**
 * The k3s release channel server. One GET of the channels collection
 * (`https://update.k3s.io/v1-release/channels`) resolves every channel, including the
 * per-minor `v1.NN` channels used to step through minors.
 */
import { ChannelError } from '../domain/errors.js';
import { type K3sVersion, tryParseVersion } from '../domain/version.js';
import { type ReleaseIndex, latestOfMinor } from '../domain/release-index.js';
import { isRecord } from '../domain/text.js';

export const DEFAULT_CHANNEL_URL = 'https://update.k3s.io/v1-release/channels';

/** The channels collection as read: a release index (src/domain/release-index.ts). */
export type ChannelSet = ReleaseIndex;
export { latestOfMinor };

/**
 * Parses the collection document. Keys on `data[].id` (falling back to `name`) and `latest`;
 * `type`/`resourceType` are not checked because their spelling has changed upstream.
 * A channel whose `latest` is not a k3s version is kept aside (never used as a target).
 */
export function parseChannels(body: string, url: string): ChannelSet {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    const looksHtml = /^\s*</.test(body);
    throw new ChannelError(
      `channel server ${url} answered ${looksHtml ? 'an HTML page' : 'something that is not JSON'}, not the channels collection`,
      { url, hint: 'check k3s.channelUrl in the inventory (it must point at .../v1-release/channels)', detail: body.slice(0, 500) },
    );
  }
  const data = isRecord(doc) ? doc['data'] : undefined;
  if (!Array.isArray(data)) {
    throw new ChannelError(`channel server ${url} answered JSON without a "data" list of channels`, {
      url,
      hint: 'check k3s.channelUrl in the inventory (it must point at .../v1-release/channels)',
      detail: body.slice(0, 500),
    });
  }
  const channels = new Map<string, K3sVersion>();
  const invalid = new Map<string, string>();
  for (const entry of data) {
    if (!isRecord(entry)) continue;
    const id = typeof entry['id'] === 'string' ? entry['id'] : typeof entry['name'] === 'string' ? entry['name'] : undefined;
    if (id === undefined) continue;
    const latest = entry['latest'];
    const v = typeof latest === 'string' ? tryParseVersion(latest) : undefined;
    if (v) channels.set(id, v);
    else invalid.set(id, typeof latest === 'string' ? latest : JSON.stringify(latest ?? null));
  }
  return { url, channels, invalid };
}

/** The latest version of a channel, or a ChannelError that says what was wrong. */
export function channelLatest(set: ChannelSet, id: string): K3sVersion {
  const v = set.channels.get(id);
  if (v) return v;
  const bad = set.invalid.get(id);
  if (bad !== undefined) {
    throw new ChannelError(
      `channel "${id}" on ${set.url} has latest ${JSON.stringify(bad.slice(0, 60))}, which is not a k3s version; refusing to use it`,
      { url: set.url, hint: 'try again later, or pin a version with --k3s-version' },
    );
  }
  const known = [...set.channels.keys()].join(', ');
  throw new ChannelError(`channel "${id}" does not exist on ${set.url}`, { url: set.url, hint: `known channels: ${known || '(none)'}` });
}
