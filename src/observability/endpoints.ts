/**
 * The operations endpoints: `/healthz` (the process answers), `/readyz` (the registered
 * readiness checks pass and the server is not stopping), `/metrics` (Prometheus text format).
 * A `node:http` handler in the shape of `ServerDeps.handlers`: returns `true` when it answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  /** Shown in the `/readyz` body, e.g. `redis`. */
  name: string;
  /** `true` when ready. A rejection or a timeout counts as not ready. */
  check(): Promise<boolean>;
}

export interface OpsEndpointsOptions {
  registry: Registry;
  /** @default [] */
  readiness?: readonly ReadinessCheck[];
  /** `true` once the server is stopping: `/readyz` then answers 503 at once. */
  stopping: () => boolean;
  /**
   * How long one readiness check may take.
   * @default 2000
   */
  checkTimeoutMs?: number;
}

export const OPS_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export function createOpsEndpoints(
  options: OpsEndpointsOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const readiness = options.readiness ?? [];
  const timeoutMs = options.checkTimeoutMs ?? 2000;

  async function ready(res: ServerResponse): Promise<void> {
    if (options.stopping()) {
      sendJson(res, 503, { status: 'stopping', checks: [] });
      return;
    }
    const checks = await Promise.all(
      readiness.map(async ({ name, check }) => ({ name, ok: await withTimeout(check, timeoutMs) })),
    );
    const ok = checks.every((c) => c.ok);
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
  }

  async function metrics(res: ServerResponse): Promise<void> {
    const body = await options.registry.metrics();
    res.writeHead(200, {
      'content-type': options.registry.contentType,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (!OPS_PATHS.has(path)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return true;
    }
    const run =
      path === '/healthz'
        ? Promise.resolve(sendJson(res, 200, { status: 'ok' }))
        : path === '/readyz'
          ? ready(res)
          : metrics(res);
    run.catch(() => {
      if (!res.headersSent) sendJson(res, 500, { status: 'error' });
      else res.destroy();
    });
    return true;
  };
}

async function withTimeout(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().then((ok) => ok === true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
