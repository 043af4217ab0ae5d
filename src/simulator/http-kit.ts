/**
 * What both simulator faces (`ark-http.ts`, `apimart-http.ts`) do alike on `node:http`:
 * mounting under a base path beside the browser pages (`h5-page.ts`), matching a route table,
 * reading the Bearer key, answering JSON, and running on a port of their own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleH5, sendPreview } from './h5-page.js';
import type { SimulatorState } from './state.js';

type Json = Record<string, unknown>;

export interface SimulatorHandlerOptions {
  /**
   * Path the handler is mounted under; requests outside it are not handled.
   * @default ''
   */
  basePath?: string;
}

/** Answers a request for `path` (below the base path) that is not a browser page. */
type ServeApi = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
) => Promise<void>;

export interface RunningSimulator {
  url: string;
  stop(): Promise<void>;
}

/**
 * A handler taking what `basePath` covers, `false` for the rest: the H5 page (`/h5/verify`) and
 * previews (`/files/…`) over `state`, everything else to `serve`; `failed()` answers a crash.
 */
export function mountHandler(
  state: SimulatorState,
  options: SimulatorHandlerOptions,
  serve: ServeApi,
  failed: () => Json,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    if (basePath && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) {
      return false;
    }
    const path = url.pathname.slice(basePath.length) || '/';
    void pageOr(state, req, res, path, url.searchParams, serve).catch(() => {
      if (!res.headersSent) sendJson(res, 500, failed());
      else res.destroy();
    });
    return true;
  };
}

async function pageOr(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
  serve: ServeApi,
): Promise<void> {
  if (path === '/h5/verify') return handleH5(state, req, res, query);
  if (path.startsWith('/files/')) return sendPreview(res, decodeURIComponent(path.slice(7)));
  return serve(req, res, path, query);
}

/** The route for `method` on `path` with its named groups, else 405 (path known) or 404. */
export function matchRoute<R extends { method: string; pattern: RegExp }>(
  routes: readonly R[],
  method: string,
  path: string,
): { route: R; params: Record<string, string> } | 404 | 405 {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: { ...match.groups } };
  }
  return pathMatched ? 405 : 404;
}

/** Runs a simulator face's handler on its own HTTP server. */
export async function serveHandler(
  handler: (req: IncomingMessage, res: ServerResponse) => boolean,
  { port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {},
): Promise<RunningSimulator> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

export function sendJson(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(status === 429 ? { 'retry-after': '1' } : {}),
  });
  res.end(text);
}
