/**
 * A small typed client for the Proxmox VE REST API (`https://<host>:8006/api2/json`), on Node's
 * own http/tls: token authentication, and TLS verified against a CA file or a pinned SHA-256
 * certificate fingerprint (insecure only when asked). The TLS handshake and the fingerprint
 * check finish before a single byte of the request (and so the token) is sent.
 */
import { request } from 'node:http';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { PveK3sError, type ErrorOptions, ResponseError } from '../../domain/errors.js';
import type { PveToken } from './token.js';
import { humanDuration } from '../../domain/duration.js';

export type TlsTrust =
  /** The system's CAs (a certificate from a public CA, e.g. ACME). */
  | { kind: 'system' }
  /** A CA certificate (PEM), e.g. the cluster's /etc/pve/pve-root-ca.pem. */
  | { kind: 'ca'; pem: string }
  /** The server certificate's SHA-256 fingerprint, as `pvenode cert info` or the web UI shows it. */
  | { kind: 'fingerprint'; sha256: string }
  /** No verification at all (asked for with --insecure). */
  | { kind: 'insecure' };

export interface PveApiOptions {
  /** `https://host:8006` (a path, if any, is ignored). */
  url: string;
  token: PveToken;
  tls: TlsTrust;
  /** Per request. @default 30000 */
  timeoutMs?: number;
}

export type ApiErrorReason = 'tls' | 'auth' | 'forbidden' | 'http' | 'network' | 'timeout' | 'response';

export class PveApiError extends PveK3sError {
  readonly exitCode = 1 as const;
  readonly reason: ApiErrorReason;
  readonly status: number | undefined;
  constructor(message: string, opts: ErrorOptions & { reason: ApiErrorReason; status?: number | undefined }) {
    super(message, opts);
    this.reason = opts.reason;
    this.status = opts.status;
  }
}

/** One entry of GET /cluster/resources?type=vm. */
export interface ClusterResource {
  id: string;
  type: 'lxc' | 'qemu' | string;
  node: string;
  vmid: number;
  name?: string;
  status: string;
  tags?: string;
  lock?: string;
  template?: number;
}

/** GET /nodes/{node}/lxc/{vmid}/status/current (the fields pve-k3s reads). */
export interface ContainerStatus {
  vmid: number;
  name?: string;
  status: string;
  lock?: string;
  tags?: string;
  uptime?: number;
}

/** GET /nodes/{node}/lxc/{vmid}/config: `pct config` as an object (values as the API types them). */
export type ContainerConfig = Record<string, string | number>;

/** Normalises `AA:BB:..` / `aabb..` / `sha256 AA:BB` to upper-case hex pairs joined by `:`. */
export function normaliseFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha256[\s:=]*/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

export class PveApi {
  readonly #opts: PveApiOptions;
  readonly #url: URL;
  /** Requests sent (for --verbose and tests). */
  requests = 0;

  constructor(opts: PveApiOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== 'https:')
      throw new PveApiError(`${opts.url}: the Proxmox API is reached over https`, { reason: 'network', hint: 'give https://<host>:8006' });
    if (opts.tls.kind === 'fingerprint' && normaliseFingerprint(opts.tls.sha256) === undefined) {
      throw new PveApiError('the certificate fingerprint is not a SHA-256 fingerprint (64 hex digits, colons allowed)', {
        reason: 'tls',
        hint: 'copy it from `pvenode cert info` (fingerprint) or the web UI (System > Certificates)',
      });
    }
    this.#opts = opts;
    this.#url = url;
  }

  get origin(): string {
    return this.#url.origin;
  }

  clusterResources(): Promise<ClusterResource[]> {
    return this.get<ClusterResource[]>('/cluster/resources?type=vm');
  }

  containerStatus(node: string, vmid: number): Promise<ContainerStatus> {
    return this.get<ContainerStatus>(`/nodes/${encodeURIComponent(node)}/lxc/${vmid}/status/current`);
  }

  containerConfig(node: string, vmid: number): Promise<ContainerConfig> {
    return this.get<ContainerConfig>(`/nodes/${encodeURIComponent(node)}/lxc/${vmid}/config`);
  }

  /** GET /api2/json<path>; returns `data`. */
  async get<T>(path: string): Promise<T> {
    const socket = await this.#connect();
    const timeoutMs = this.#opts.timeoutMs ?? 30_000;
    const what = `GET ${path.split('?')[0]}`;
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          createConnection: () => socket,
          method: 'GET',
          host: this.#url.hostname,
          port: this.#url.port || 8006,
          path: `/api2/json${path}`,
          headers: { Authorization: this.#opts.token.header(), Accept: 'application/json', Connection: 'close' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('error', (e) => reject(this.#networkError(what, e)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const reason = (res.statusMessage ?? '').trim();
            if (status === 401) {
              reject(
                new PveApiError(`${this.origin}: ${what}: 401 ${reason || 'authentication failure'} (token ${this.#opts.token.id})`, {
                  reason: 'auth',
                  status: 401,
                  hint: 'check the API token (USER@REALM!TOKENID=UUID): it may be mistyped, expired or deleted',
                }),
              );
            } else if (status === 403) {
              reject(
                new PveApiError(`${this.origin}: ${what}: 403 ${reason || 'permission denied'} (token ${this.#opts.token.id})`, {
                  reason: 'forbidden',
                  status: 403,
                  hint: 'give the token (or its user, without privilege separation) VM.Audit and Sys.Audit on /',
                }),
              );
            } else if (status < 200 || status >= 300) {
              reject(
                new PveApiError(`${this.origin}: ${what}: HTTP ${status} ${reason}`.trim(), {
                  reason: 'http',
                  status,
                  detail: body.slice(0, 500),
                }),
              );
            } else {
              try {
                const json = JSON.parse(body) as { data?: unknown };
                if (typeof json !== 'object' || json === null || !('data' in json)) throw new ResponseError('no "data" member');
                resolve(json.data as T);
              } catch (e) {
                reject(
                  new PveApiError(`${this.origin}: ${what}: the answer is not the API's JSON (${(e as Error).message})`, {
                    reason: 'response',
                    status,
                    detail: body.slice(0, 500),
                  }),
                );
              }
            }
          });
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(new PveApiError(`${this.origin}: ${what}: no answer within ${humanDuration(timeoutMs)}`, { reason: 'timeout' })),
      );
      req.on('error', (e) => reject(e instanceof PveApiError ? e : this.#networkError(what, e)));
      req.end();
    });
  }

  /** A TLS connection whose certificate is already accepted. */
  #connect(): Promise<TLSSocket> {
    const tls = this.#opts.tls;
    const host = this.#url.hostname.replace(/^\[|\]$/g, '');
    const options: ConnectionOptions = {
      host,
      port: Number(this.#url.port || 8006),
      rejectUnauthorized: tls.kind === 'system' || tls.kind === 'ca',
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(tls.kind === 'ca' ? { ca: tls.pem } : {}),
    };
    const timeoutMs = this.#opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const socket = connect(options);
      const fail = (e: PveApiError) => {
        socket.destroy();
        reject(e);
      };
      socket.setTimeout(timeoutMs, () =>
        fail(new PveApiError(`${this.origin}: no TLS handshake within ${humanDuration(timeoutMs)}`, { reason: 'timeout' })),
      );
      socket.once('error', (e: NodeJS.ErrnoException) => {
        if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME|IP: /i.test(`${e.code ?? ''} ${e.message}`)) {
          fail(
            new PveApiError(`${this.origin}: the server's certificate is not trusted (${e.code ?? e.message})`, {
              reason: 'tls',
              hint: TLS_HINT,
              cause: e,
            }),
          );
        } else fail(this.#networkError('connect', e));
      });
      socket.once('secureConnect', () => {
        socket.setTimeout(0);
        if (tls.kind === 'fingerprint') {
          const want = normaliseFingerprint(tls.sha256);
          const got = socket.getPeerCertificate().fingerprint256;
          if (!got || got.toUpperCase() !== want) {
            fail(
              new PveApiError(`${this.origin}: the server's certificate fingerprint ${got ?? '(none)'} is not the pinned one`, {
                reason: 'tls',
                hint: 'if the certificate was renewed, check the new fingerprint on the host (`pvenode cert info`) and pin it; otherwise something is intercepting the connection',
              }),
            );
            return;
          }
        }
        socket.removeAllListeners('error');
        resolve(socket);
      });
    });
  }

  #networkError(what: string, e: Error & { code?: string }): PveApiError {
    return new PveApiError(`${this.origin}: ${what}: ${e.code ?? e.message}`, {
      reason: 'network',
      hint: 'check the URL (https://<host>:8006) and that the host is reachable',
      cause: e,
    });
  }
}

const TLS_HINT =
  'give the cluster CA with --ca FILE (/etc/pve/pve-root-ca.pem on any node) or pin the certificate with --fingerprint (`pvenode cert info`); --insecure skips verification';
