/**
 * The lab's release channel server: a real HTTP server on 127.0.0.1 answering like
 * update.k3s.io (collection, 302 per channel, 404), with channel faults from the state.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { channelLatest } from './catalog.js';
import { consumeChannelFault } from './channel-faults.js';
import type { LabStore } from './store.js';

export interface ChannelServer {
  /** `http://127.0.0.1:<port>/v1-release/channels` */
  url: string;
  close(): Promise<void>;
}

export async function startChannelServer(store: LabStore): Promise<ChannelServer> {
  const server = http.createServer((req, res) => {
    try {
      handle(store, req, res);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1-release/channels`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function handle(store: LabStore, req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
  const m = /^\/v1-release\/channels(?:\/([^/]+))?$/.exec(path);
  if (req.method !== 'GET' || !m) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"type":"error","status":"404","message":"not found"}');
    return;
  }
  const id = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
  const { fault, collection } = store.update((s) => ({
    fault: consumeChannelFault(s, id ?? 'collection'),
    collection: withLatestFaults(s.channels, s.channelFaults),
  }));
  if (fault && (fault.status !== undefined || fault.body !== undefined)) {
    const status = fault.status ?? 200;
    const body = fault.body ?? `<html><body><h1>${status} Service Unavailable</h1></body></html>`;
    res.writeHead(status, { 'content-type': fault.contentType ?? 'text/html' }).end(body);
    return;
  }
  if (id === undefined) {
    const body = JSON.stringify(collection);
    if (fault?.stallAfterBytes !== undefined) {
      // A server that stops mid-body: the headers promise the whole length, part of it comes.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, fault.stallAfterBytes));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  const latest = fault?.latest ?? channelLatest(collection, id);
  if (latest === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"type":"error","status":"404","message":"channel not found"}');
    return;
  }
  res
    .writeHead(302, { location: `https://github.com/k3s-io/k3s/releases/tag/${latest}`, 'content-type': 'text/html' })
    .end(`<a href="https://github.com/k3s-io/k3s/releases/tag/${latest}">Found</a>.\n`);
}

/** A `latest` fault on a channel shows in the collection too (clients resolve from one request). */
function withLatestFaults(collection: unknown, faults: Array<{ path?: string; effect: { latest?: string } }>): unknown {
  const c = structuredClone(collection) as { data?: Array<Record<string, unknown>> };
  for (const f of faults) {
    if (f.effect.latest === undefined) continue;
    for (const d of c.data ?? []) if (f.path === undefined || d.id === f.path) d.latest = f.effect.latest;
  }
  return c;
}
