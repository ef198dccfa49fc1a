// Test helpers: a tiny real HTTP server whose answers each test scripts, a capturing logger, and real metrics.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createMetrics } from '@playledger/common';
import { createSpotifyClient, type SpotifyClientOptions } from '../src/index.ts';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

export interface LocalServer {
  url: string;
  seen: SeenRequest[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** A real node:http server on a free port; `handle` sets what it answers next. */
export async function startLocalServer(): Promise<LocalServer> {
  const seen: SeenRequest[] = [];
  let handler: Handler = (_req, res) => {
    res.statusCode = 500;
    res.end();
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(r);
      Promise.resolve(handler(r, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    handle: (h) => (handler = h),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    name: 'spotify-test',
    level: 'debug',
    destination: { write: (s: string) => lines.push(s) },
  });
  return { logger, lines, text: () => lines.join('') };
}

/** outcome → count for one endpoint, read from the real prom-client counter. */
export async function callCounts(metrics: ReturnType<typeof createMetrics>, endpoint: string) {
  const { values } = await metrics.spotifyCalls.get();
  const out: Record<string, number> = {};
  for (const v of values) if (v.labels.endpoint === endpoint) out[String(v.labels.outcome)] = v.value;
  return out;
}

export const CLIENT_ID = 'test-client-id';
export const CLIENT_SECRET = 'test-client-secret-0123456789';

export function makeClient(url: string, extra: Partial<SpotifyClientOptions> = {}) {
  const log = capturingLogger();
  const metrics = createMetrics('spotify-test');
  const client = createSpotifyClient({
    accountsUrl: url,
    apiUrl: url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs: 2_000,
    quotaPauseMs: 900_000,
    logger: log.logger,
    metrics,
    ...extra,
  });
  return { client, log, metrics };
}
