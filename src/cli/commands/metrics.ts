/** `pve-k3s metrics [--listen ADDR]`: Prometheus text exposition, printed once or served over HTTP. */
import { PveK3sError, RunError, UsageError, errnoCode } from '../../domain/errors.js';
import { out, withCluster, type GlobalOptions } from '../context.js';
import type { ClusterConnection } from '../../operation/connect.js';

export interface MetricsFlags {
  listen?: string;
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function collect(conn: ClusterConnection): Promise<string> {
  const [{ gatherFacts }, { resolveTarget }, { renderMetrics }, { clusterHealth }] = await Promise.all([
    import('../../upgrade/facts/gather.js'),
    import('../../upgrade/plan/target.js'),
    import('../../status/metrics.js'),
    import('./status.js'),
  ]);
  const inv = conn.inventory;
  const t0 = Date.now();
  const [facts, target, certs] = await Promise.all([
    gatherFacts(inv, conn.shells),
    resolveTarget({ version: inv.k3s.version, channel: inv.k3s.channel, channelUrl: conn.channelUrl }).then(
      (r) => r.target.version.raw,
      (e: unknown) => {
        if (e instanceof PveK3sError) return undefined;
        throw e;
      },
    ),
    certExpiries(conn),
  ]);
  const health = await clusterHealth(conn, facts, false);
  return renderMetrics({ facts, health, target, probeSeconds: (Date.now() - t0) / 1000, certs });
}

/** k3s's serving and client certificates on each server, read with openssl in the container (none when it is missing). */
export const CERT_FILES = [
  '/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.crt',
  '/var/lib/rancher/k3s/server/tls/client-admin.crt',
  '/var/lib/rancher/k3s/server/tls/server-ca.crt',
];

async function certExpiries(conn: ClusterConnection): Promise<import('../../status/metrics.js').CertExpiry[]> {
  const [{ Pct }, { parseCertDates }] = await Promise.all([import('../../proxmox/pct.js'), import('../../status/metrics.js')]);
  const script = `command -v openssl >/dev/null 2>&1 || exit 0\nfor f in ${CERT_FILES.join(' ')}; do test -f "$f" && echo "== $f" && openssl x509 -noout -enddate -in "$f"; done\ntrue\n`;
  const servers = conn.inventory.nodes.filter((n) => n.role === 'server');
  const per = await Promise.all(
    servers.map(async (n) => {
      const shell = conn.shells.get(n.host);
      if (!shell) return [];
      const r = await new Pct(shell).execScript(n.vmid, script, { timeoutMs: 30_000 }).catch(() => undefined);
      return r && r.code === 0 ? parseCertDates(n.name, r.stdout) : [];
    }),
  );
  return per.flat();
}

export function parseListen(addr: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?)?:(\d{1,5})$/.exec(addr);
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new UsageError(`--listen takes HOST:PORT or :PORT, got "${addr}"`, { hint: 'e.g. --listen 127.0.0.1:9480' });
  return { host: m[1] || '0.0.0.0', port };
}

/** Why `--listen` could not be served, said in words (a name that does not resolve, a port in use...). */
export function listenError(err: unknown, addr: string, at: { host: string; port: number }): unknown {
  const code = errnoCode(err);
  const where = `${at.host}:${at.port}`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new UsageError(`--listen ${addr}: cannot resolve "${at.host}" to an address (${code})`, {
        hint: 'give an address of this machine (e.g. 127.0.0.1:9480), a name it resolves, or :PORT for every interface',
        cause: err,
      });
    case 'EADDRNOTAVAIL':
      return new UsageError(`--listen ${addr}: ${at.host} is not an address of this machine (${code})`, {
        hint: 'give one of its own addresses (ip -br addr), 127.0.0.1, or :PORT for every interface',
        cause: err,
      });
    case 'EADDRINUSE':
      return new RunError(`cannot serve metrics on ${where}: another program listens on port ${at.port} (${code})`, {
        hint: `choose another port (--listen ${at.host}:${at.port + 1}), or find that program: ss -ltnp 'sport = :${at.port}'`,
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
      return new RunError(`cannot serve metrics on ${where}: not allowed to listen on port ${at.port} (${code})`, {
        hint:
          at.port < 1024
            ? 'ports below 1024 need root: use a higher one, e.g. 9480'
            : 'check what restricts this process (a sandbox, SELinux)',
        cause: err,
      });
    default:
      return code === undefined ? err : new RunError(`cannot serve metrics on ${where}: ${(err as Error).message}`, { cause: err });
  }
}

export async function metrics(g: GlobalOptions, flags: MetricsFlags): Promise<number> {
  const listen = flags.listen === undefined ? undefined : parseListen(flags.listen);
  return withCluster(g, async (conn) => {
    if (!listen) {
      out(await collect(conn));
      return 0;
    }
    const { createServer } = await import('node:http');
    let inflight: Promise<string> | undefined;
    const server = createServer((req, res) => {
      if (req.url !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res
          .writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/plain' })
          .end(req.url === '/' ? 'pve-k3s metrics: see /metrics\n' : 'not found\n');
        return;
      }
      // Concurrent scrapes share one probe.
      inflight ??= collect(conn).finally(() => {
        inflight = undefined;
      });
      inflight.then(
        (body) => res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`probe failed: ${(e as Error).message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(err, flags.listen!, listen)));
      server.listen(listen.port, listen.host, resolve);
    });
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : listen.port;
    process.stderr.write(`serving metrics on http://${listen.host}:${port}/metrics (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        server.close(() => resolve());
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  });
}
