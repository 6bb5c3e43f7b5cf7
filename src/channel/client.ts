/** Fetches the channels collection over HTTP(S) (./http-get.ts: Node's http, not fetch). */
import { ChannelError } from '../domain/errors.js';
import { humanDuration } from '../domain/duration.js';
import { parseChannels, type ChannelSet } from './channels.js';
import { httpGet, type HttpAnswer } from './http-get.js';

export interface FetchChannelsOptions {
  /** For the whole exchange: the answer's headers and its body. @default 15000 */
  timeoutMs?: number;
  /** The most the body may hold; a bigger answer is refused, not read to its end. @default 1 MiB */
  maxBytes?: number;
  signal?: AbortSignal;
}

export const MAX_CHANNELS_BYTES = 1024 * 1024;

const NETWORK_HINT = 'check your network, set k3s.channelUrl to a reachable mirror, or pin a version with --k3s-version';

export async function fetchChannels(url: string, opts: FetchChannelsOptions = {}): Promise<ChannelSet> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const failed = (err: unknown, during: 'answer' | 'body'): ChannelError | unknown => {
    if (opts.signal?.aborted) return err;
    if (timeout.aborted)
      return new ChannelError(
        during === 'answer'
          ? `channel server ${url} did not answer within ${humanDuration(timeoutMs)}`
          : `channel server ${url} stopped sending its answer: not complete after ${humanDuration(timeoutMs)}`,
        { url, hint: NETWORK_HINT, cause: err },
      );
    const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return new ChannelError(
      during === 'answer' ? `cannot reach the channel server ${url}: ${cause}` : `the channel server ${url} broke off its answer: ${cause}`,
      { url, hint: NETWORK_HINT, cause: err },
    );
  };
  let res: HttpAnswer;
  try {
    res = await httpGet(url, { headers: { accept: 'application/json' }, signal });
  } catch (err) {
    throw failed(err, 'answer');
  }
  let body: string;
  try {
    body = await readBody(res, opts.maxBytes ?? MAX_CHANNELS_BYTES, signal);
  } catch (err) {
    if (err instanceof TooBig)
      throw new ChannelError(`channel server ${url} answered more than ${formatBytes(err.limit)}: that is not the channels collection`, {
        url,
        hint: 'check k3s.channelUrl in the inventory (it must point at .../v1-release/channels)',
      });
    throw failed(err, 'body');
  }
  if (res.status < 200 || res.status > 299) {
    throw new ChannelError(`channel server ${url} answered ${res.status} ${res.statusText}`.trimEnd(), {
      url,
      hint:
        res.status === 404
          ? 'check k3s.channelUrl in the inventory (it must point at .../v1-release/channels)'
          : 'try again later, or pin a version with --k3s-version',
      detail: body.slice(0, 500),
    });
  }
  return parseChannels(body, url);
}

class TooBig extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/**
 * The body as text, read under `signal` (a server that stalls mid-body is cut off with the
 * rest of the exchange: the aborted request destroys the body) and refused past `limit` bytes.
 */
async function readBody(res: HttpAnswer, limit: number, signal: AbortSignal): Promise<string> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new TooBig(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    signal.throwIfAborted();
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) throw new TooBig(limit);
      chunks.push(chunk);
    }
    // An aborted request may end its body early instead of failing it.
    signal.throwIfAborted();
  } finally {
    res.body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
