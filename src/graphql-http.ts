/**
 * A small `node:http` adapter for Apollo Server: reads the body, hands the request to
 * `executeHTTPGraphQLRequest`, writes the answer. No Express. Only `path` is served; other
 * paths get 404, so that the same server can carry other handlers (and WebSocket upgrades).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { PayloadTooLargeError } from './errors/gateway-error.js';

export interface GraphQLHttpHandlerOptions<TContext extends BaseContext> {
  /** A started Apollo Server. */
  apollo: ApolloServer<TContext>;
  /** Builds the context of one request. */
  context: (req: IncomingMessage) => Promise<TContext>;
  logger: Logger;
  /**
   * The path GraphQL is served on.
   * @default '/graphql'
   */
  path?: string;
  /**
   * The largest request body accepted; larger ones get 413 `PAYLOAD_TOO_LARGE`.
   * @default 1048576
   */
  maxBodyBytes?: number;
  /**
   * Runs once the path matched, before the body is read (CORS, authentication, rate limit).
   * Resolves `false` when it answered the request itself.
   * @default none
   */
  admit?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /**
   * Checks the operations before Apollo parses them: the parsed JSON body (one operation or a
   * batch), or for GET `{ query }` from the query string. A returned error is the answer.
   * @default none
   */
  checkOperations?: (body: unknown) => GraphQLError | null;
  /** Told the code of every error this adapter answers itself (for metrics). */
  onRefused?: (code: string) => void;
}

/**
 * Answers outside Apollo in the GraphQL error shape: the error's message and extensions, its
 * HTTP status from `extensions.http.status` (400 when absent), which is not sent.
 */
export function sendGraphQLError(
  res: ServerResponse,
  error: GraphQLError,
  headers: Record<string, string> = {},
): void {
  const { http, ...extensions } = error.extensions as { http?: { status?: number } };
  const body = JSON.stringify({ errors: [{ message: error.message, extensions }] });
  res.writeHead(http?.status ?? 400, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function badRequest(status: number, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status } } });
}

/** Strict: a body that is not UTF-8 is refused rather than patched with U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * The path and query string of a request target. The usual origin form (`/graphql?query=…`) is
 * split by hand, as `new URL` costs a full parse per request; the path must then match exactly.
 * Any other form (absolute, from a proxy) goes through `URL`.
 */
function splitTarget(target: string): { pathname: string; search: string } {
  if (!target.startsWith('/')) return new URL(target, 'http://localhost');
  const mark = target.indexOf('?');
  return mark === -1
    ? { pathname: target, search: '' }
    : { pathname: target.slice(0, mark), search: target.slice(mark) };
}

export function createGraphQLHttpHandler<TContext extends BaseContext>(
  options: GraphQLHttpHandlerOptions<TContext>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const path = options.path ?? '/graphql';
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const sendError = (res: ServerResponse, error: GraphQLError) => {
    const code = error.extensions['code'];
    if (typeof code === 'string') options.onRefused?.(code);
    sendGraphQLError(res, error);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname, search } = splitTarget(req.url ?? '/');
    if (pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    // Answers carry one caller's data: no shared cache may keep them (Apollo's cache-control
    // plugin said so per response; it is off, see `server.ts`).
    res.setHeader('cache-control', 'no-store');
    if (options.admit && !(await options.admit(req, res))) return;

    let raw: Buffer;
    try {
      raw = await readBody(req, limit);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      // Stop reading; close the connection once the answer is out.
      res.setHeader('connection', 'close');
      sendError(res, new PayloadTooLargeError(limit));
      req.resume();
      return;
    }

    const contentType = req.headers['content-type'] ?? '';
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
      sendError(res, badRequest(415, 'Unsupported charset: send UTF-8.'));
      return;
    }
    let body: unknown;
    if (/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType) && raw.length > 0) {
      let text: string;
      try {
        text = utf8.decode(raw);
      } catch {
        sendError(res, badRequest(400, 'The request body is not valid UTF-8.'));
        return;
      }
      try {
        body = JSON.parse(text);
      } catch {
        sendError(res, badRequest(400, 'The request body is not valid JSON.'));
        return;
      }
    }
    if (options.checkOperations) {
      const operations =
        req.method === 'GET'
          ? { query: new URLSearchParams(search).get('query') ?? undefined }
          : body;
      const refusal = options.checkOperations(operations);
      if (refusal) {
        sendError(res, refusal);
        return;
      }
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: () => options.context(req),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, 'the GraphQL HTTP handler failed');
      if (!res.headersSent) {
        const body = JSON.stringify({
          errors: [
            { message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
          ],
        });
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(body);
      } else {
        res.destroy();
      }
    });
  };
}
