import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../log';

/** Bounds on scrapers: a slow or endless HTTP client never holds the loop or memory. */
const MAX_HEADER_BYTES = 8 * 1024;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 15_000;
const MAX_CONNECTIONS = 32;
// How often Node checks the two timeouts above (its default, 30 s, would let a slow client
// hold a connection six times longer than HEADERS_TIMEOUT_MS).
const CHECK_INTERVAL_MS = 1_000;

/** Prometheus's text format, version 0.0.4. */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What a reload did, for POST /-/reload: 200 and the message when applied, else 500 and why. */
export type ReloadAction = () => Promise<{ ok: boolean; message: string }>;

/**
 * `GET /metrics` over HTTP (--metrics-port, --metrics-listen), on Node's loop: `render` runs
 * once per scrape and reads counters the data path keeps anyway, so a scrape costs the data
 * path nothing but the store lock for one `stats`. The proxy's listener also takes `POST
 * /-/reload` (Prometheus's own path for it). Any other path is 404, any other method 405,
 * each closing the connection.
 */
export class MetricsServer {
  private constructor(private readonly server: http.Server, readonly address: string) {}

  static async start(host: string, port: number, render: () => string, log: Logger, reload: ReloadAction | null = null): Promise<MetricsServer> {
    const server = http.createServer(
      {
        maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS,
        keepAliveTimeout: IDLE_TIMEOUT_MS, connectionsCheckingInterval: CHECK_INTERVAL_MS,
      },
      (req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (reload !== null && path === '/-/reload') return reloadRoute(req, res, reload);
        answer(req, res, path, render, log);
      },
    );
    server.maxConnections = MAX_CONNECTIONS;
    server.setTimeout(IDLE_TIMEOUT_MS, (socket: net.Socket) => socket.destroy());
    // A malformed request (bad request line, headers past the bound) gets 400 and the close.
    server.on('clientError', (_err, socket: net.Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err: NodeJS.ErrnoException) => log.warn(`metrics: ${err.code ?? err.message}`));
    const a = server.address() as net.AddressInfo;
    const shown = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    return new MetricsServer(server, `http://${shown}/metrics`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, path: string | undefined, render: () => string, log: Logger): void {
  if (path !== '/metrics') return refuse(req, res, 404, {});
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(req, res, 405, { Allow: 'GET, HEAD' });
  let body: string;
  try {
    body = render();
  } catch (err) {
    log.warn(`metrics: ${(err as Error).message}`);
    return refuse(req, res, 500, {});
  }
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** POST (or PUT, as Prometheus) /-/reload: the reload's outcome as one line of text; the connection closes. */
function reloadRoute(req: http.IncomingMessage, res: http.ServerResponse, reload: ReloadAction): void {
  if (req.method !== 'POST' && req.method !== 'PUT') return refuse(req, res, 405, { Allow: 'POST, PUT' });
  void reload().then(({ ok, message }) => {
    const body = `${message}\n`;
    res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body, () => req.socket.destroy());
  });
}

/** An error status with an empty body, then the connection closes (a request body is not read). */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0, Connection: 'close' });
  res.end(() => req.socket.destroy());
}
