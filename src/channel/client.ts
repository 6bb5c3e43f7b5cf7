/** Fetches the channels collection over HTTP(S) with Node's fetch. */
import { ChannelError } from '../domain/errors.js';
import { parseChannels, type ChannelSet } from './channels.js';

export interface FetchChannelsOptions {
  /** @default 15000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Injected for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
}

export async function fetchChannels(url: string, opts: FetchChannelsOptions = {}): Promise<ChannelSet> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'follow', signal });
  } catch (err) {
    const timedOut = timeout.aborted && !opts.signal?.aborted;
    const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new ChannelError(
      timedOut
        ? `channel server ${url} did not answer within ${(opts.timeoutMs ?? 15_000) / 1000}s`
        : `cannot reach the channel server ${url}: ${cause}`,
      { url, hint: 'check your network, set k3s.channelUrl to a reachable mirror, or pin a version with --version', cause: err },
    );
  }
  const body = await res.text();
  if (!res.ok) {
    throw new ChannelError(`channel server ${url} answered ${res.status} ${res.statusText}`.trimEnd(), {
      url,
      hint:
        res.status === 404
          ? 'check k3s.channelUrl in the inventory (it must point at .../v1-release/channels)'
          : 'try again later, or pin a version with --version',
      detail: body.slice(0, 500),
    });
  }
  return parseChannels(body, url);
}
