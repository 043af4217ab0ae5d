/**
 * Serves the built web console (`/`) and GraphiQL (`/graphiql`) from `dist/console` (built by
 * `npm run build:console` from `console/`), with their bundled files under `/assets/`.
 *
 * Every page is sent with a strict Content Security Policy: scripts, styles and connections
 * from this origin only (`connect-src 'self'` also covers the same-origin `ws:`/`wss:` of
 * graphql-ws), no framing. Two exceptions, each for a reason: the console shows upstream image
 * previews (`img-src https:`: the signed URLs of the asset service's storage), and GraphiQL's
 * stylesheet embeds its fonts (`font-src data:`). Images and fonts cannot run code.
 *
 * The console learns whether GraphiQL is served from a `<meta>` in its page (no inline script,
 * no extra request): see `GRAPHIQL_META`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

/** `dist/console` of this package, from `src/web/` (tests) and `dist/web/` (built) alike. */
export const DEFAULT_CONSOLE_ROOT = fileURLToPath(new URL('../../dist/console/', import.meta.url));

export const CONSOLE_PATH = '/';
export const GRAPHIQL_PATH = '/graphiql';
const ASSETS_PREFIX = '/assets/';

/**
 * The `name` of the `<meta>` added to the console's page while GraphiQL is served, its `content`
 * GraphiQL's path. The console (console/src/App.tsx) links to GraphiQL only when it is there, so
 * a gateway with GraphiQL off shows no link to a 404. `npm run dev:console` adds it too
 * (console/vite.config.ts).
 */
export const GRAPHIQL_META = 'avatar-gateway:graphiql';

const BASE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
];
export const CONSOLE_CSP = [...BASE_POLICY, "img-src 'self' https:", "font-src 'self'"].join('; ');
export const GRAPHIQL_CSP = [...BASE_POLICY, "img-src 'self'", "font-src 'self' data:"].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

export interface ConsoleHandlerOptions {
  /** Serve the console at `/` (`CONSOLE_ENABLED`). */
  console: boolean;
  /** Serve GraphiQL at `/graphiql` (`GRAPHQL_LANDING_PAGE`). */
  graphiql: boolean;
  logger: Logger;
  /**
   * The built files.
   * @default DEFAULT_CONSOLE_ROOT
   */
  root?: string;
}

/** A `ServerDeps.handlers` entry: `true` when it took the request. */
export function createConsoleHandler(
  options: ConsoleHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const root = options.root ?? DEFAULT_CONSOLE_ROOT;
  /** `head`: markup added at the end of the page's `<head>`. */
  const pages = new Map<string, { file: string; csp: string; head: string }>();
  if (options.console) {
    const head = options.graphiql
      ? `<meta name="${GRAPHIQL_META}" content="${GRAPHIQL_PATH}">`
      : '';
    pages.set(CONSOLE_PATH, { file: 'index.html', csp: CONSOLE_CSP, head });
  }
  if (options.graphiql) {
    pages.set(GRAPHIQL_PATH, { file: 'graphiql.html', csp: GRAPHIQL_CSP, head: '' });
  }
  if (pages.size > 0 && !existsSync(join(root, 'index.html'))) {
    options.logger.warn(
      { root },
      'the web console is not built: run `npm run build` (or `npm run build:console`)',
    );
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const page = pages.get(path);
    const asset = pages.size > 0 && path.startsWith(ASSETS_PREFIX) ? assetName(path) : null;
    if (!page && asset === null) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const file = page ? join(root, page.file) : join(root, 'assets', asset!);
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      // Bundled files have content hashes in their names; pages must be revalidated.
      'cache-control': page ? 'no-cache' : 'public, max-age=31536000, immutable',
      'referrer-policy': 'no-referrer',
    };
    if (page) {
      headers['content-security-policy'] = page.csp;
      headers['x-frame-options'] = 'DENY';
    }
    readFile(file).then(
      (content) => {
        const body = page?.head ? addToHead(content, page.head) : content;
        res.writeHead(200, { ...headers, 'content-length': String(body.length) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') options.logger.error({ err: error, file }, 'console file');
        const text = page
          ? 'The web console is not built: run `npm run build` (or `npm run build:console`).\n'
          : 'Not found.\n';
        res.writeHead(page ? 503 : 404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(text);
      },
    );
    return true;
  };
}

/** `html` with `markup` at the end of its `<head>`; unchanged without one. */
function addToHead(html: Buffer, markup: string): Buffer {
  const text = html.toString('utf8');
  const at = text.indexOf('</head>');
  return at < 0 ? html : Buffer.from(`${text.slice(0, at)}${markup}\n${text.slice(at)}`);
}

/** The file name under `/assets/`, or `null` unless it is one plain name (no `..`, no `/`). */
function assetName(path: string): string | null {
  const name = path.slice(ASSETS_PREFIX.length);
  return /^[\w-]+(\.[\w-]+)+$/.test(name) ? name : null;
}
