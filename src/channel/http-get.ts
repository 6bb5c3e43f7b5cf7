/**
 * One HTTP(S) GET with Node's own http and https modules, following redirects as fetch does.
 *
 * Why not fetch: in Node 20 the first fetch loads undici and compiles its WebAssembly HTTP
 * parser, ~50 ms of CPU (profiled in docs/performance.md) that every command pays while its SSH
 * probes start beside it; node:http parses with the native llhttp already in the binary.
 */
import type { IncomingMessage } from 'node:http';
import { ChannelError } from '../domain/errors.js';

export interface HttpAnswer {
  status: number;
  statusText: string;
  /** Header names in lower case. */
  headers: IncomingMessage['headers'];
  /** The body, not read yet: read it or destroy it. */
  body: IncomingMessage;
}

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Aborts the exchange, the body's read included (the request is destroyed with the reason). */
  signal?: AbortSignal;
  /** @default 5 */
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function httpGet(url: string, opts: HttpGetOptions = {}): Promise<HttpAnswer> {
  const max = opts.maxRedirects ?? 5;
  let at = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await once(at, opts);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) {
      return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: res };
    }
    res.destroy();
    if (hop >= max) throw new ChannelError(`more than ${max} redirects (the last to ${location})`, { url });
    at = new URL(location, at);
  }
}

async function once(url: URL, opts: HttpGetOptions): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ChannelError(`unsupported protocol ${url.protocol} (http: or https: only)`, { url: url.href });
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  opts.signal?.throwIfAborted();
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: opts.headers ?? {}, agent: false, ...(opts.signal ? { signal: opts.signal } : {}) });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}
