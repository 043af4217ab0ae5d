/**
 * The `upstream` readiness probe against scripted `node:http` servers on port 0: any HTTP answer
 * is reachable, a refused connection or a silent server is not, concurrent checks share one
 * probe, and a result stands for `cacheMs` on the injected clock.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamReadiness } from '../../src/observability/readiness.js';
import { freePort } from '../helpers/prism.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A server whose `n`th request (0-based) gets `answer(n)`: a status, or `null` for silence. */
async function scripted(answer: (call: number) => number | null) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    const status = answer(seen.length - 1);
    if (status !== null) res.writeHead(status).end();
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`, seen };
}

describe('upstreamReadiness', () => {
  it('counts any HTTP answer as reachable, and sends no credential', async () => {
    const { url, seen } = await scripted((call) => [200, 401, 503][call] ?? 404);
    let now = 0;
    const check = upstreamReadiness(url, { cacheMs: 10, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(await check.check()).toBe(true);
      now += 10;
    }
    expect(seen).toEqual(['HEAD /base -', 'HEAD /base -', 'HEAD /base -']);
  });

  it('is not ready when the connection is refused or no answer comes in time', async () => {
    const refused = upstreamReadiness(`http://127.0.0.1:${await freePort()}`);
    expect(await refused.check()).toBe(false);
    const { url } = await scripted(() => null);
    const started = Date.now();
    expect(await upstreamReadiness(url, { timeoutMs: 200 }).check()).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('shares one probe between concurrent checks and keeps its result for cacheMs', async () => {
    const { url, seen } = await scripted(() => 200);
    let now = 0;
    const check = upstreamReadiness(url, { cacheMs: 2000, now: () => now });
    expect(await Promise.all([check.check(), check.check(), check.check()])).toEqual([
      true,
      true,
      true,
    ]);
    now += 1999;
    await check.check();
    expect(seen).toHaveLength(1);
    now += 1;
    await check.check();
    expect(seen).toHaveLength(2);
  });
});
