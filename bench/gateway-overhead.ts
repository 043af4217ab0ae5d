/**
 * What the gateway adds on top of the upstream, and how many upstream calls a nested query costs.
 *
 * 1. Latency: an open-loop load at a fixed rate (default 500 requests/s) of a `groups` query
 *    through the gateway, and of the same ListAssetGroups call made directly with undici, both
 *    against one local upstream stub; p50, p99 and achieved requests/s side by side.
 * 2. Batching: one query for 50 groups with their assets, counting upstream calls by action.
 *
 * Pacing is turned off here: it exists to keep one API key under the upstream's 10 QPS for
 * ListAssetGroups, and this measures the gateway's own overhead. Run with `npm run bench`.
 * Options (env): BENCH_RATE (500), BENCH_SECONDS (5).
 */
import 'reflect-metadata';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { pino } from 'pino';
import { Pool } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { createServer as createGateway } from '../src/server.js';
import type { ArkAction as UpstreamAction } from '../src/upstream/ark/actions.js';
import { createArkClient } from '../src/upstream/ark/client.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const GROUPS = 50;
const ASSETS_PER_GROUP = 2;

const meta = (action: string) => ({
  RequestId: '20260601191715C9DAA092032F19CEC367',
  Action: action,
  Version: '2024-01-01',
  Service: 'ark',
  Region: 'cn-beijing',
});
const groups = Array.from({ length: GROUPS }, (_, i) => ({
  Id: `group-20260601191715-g${String(i).padStart(4, '0')}`,
  Name: `group ${i}`,
  Description: '',
  GroupType: 'AIGC',
  CreateTime: '2026-06-01T11:17:15Z',
  UpdateTime: '2026-06-01T11:17:15Z',
}));
const assets = groups.flatMap((group, g) =>
  Array.from({ length: ASSETS_PER_GROUP }, (_, a) => ({
    Id: `asset-20260602153901-a${g}x${a}`,
    Name: `asset ${a}`,
    AssetType: 'Image',
    GroupId: group.Id,
    Status: 'Active',
    CreateTime: '2026-06-02T07:39:01Z',
    UpdateTime: '2026-06-02T07:39:04Z',
  })),
);

/** The upstream stub: fixed answers, and a count of calls by action. */
function startStub() {
  const calls = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      let answer: unknown;
      if (req.url === '/v1/private-avatar/groups/list') {
        calls.set('ListAssetGroups', (calls.get('ListAssetGroups') ?? 0) + 1);
        const size = body.PageSize ?? 10;
        const page = body.PageNumber ?? 1;
        answer = {
          ResponseMetadata: meta('ListAssetGroups'),
          Result: {
            Total: GROUPS,
            PageNumber: page,
            PageSize: size,
            Items: groups.slice((page - 1) * size, page * size),
          },
        };
      } else if (req.url === '/v1/private-avatar/assets/list') {
        calls.set('ListAssets', (calls.get('ListAssets') ?? 0) + 1);
        const ids = new Set<string>(body.Filter?.GroupIds ?? []);
        const matching = assets.filter((asset) => ids.size === 0 || ids.has(asset.GroupId));
        const size = body.PageSize ?? 10;
        const page = body.PageNumber ?? 1;
        answer = {
          ResponseMetadata: meta('ListAssets'),
          Result: {
            Total: matching.length,
            PageNumber: page,
            PageSize: size,
            Items: matching.slice((page - 1) * size, page * size),
          },
        };
      } else {
        calls.set(
          `other ${req.method} ${req.url}`,
          (calls.get(`other ${req.method} ${req.url}`) ?? 0) + 1,
        );
        res.writeHead(404).end();
        return;
      }
      const text = JSON.stringify(answer);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });
  return new Promise<{ url: string; calls: Map<string, number>; stop(): Promise<void> }>(
    (resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          calls,
          stop: () =>
            new Promise((done) => {
              server.closeAllConnections();
              server.close(() => done());
            }),
        }),
      ),
  );
}

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  errors: number;
}

/** Open loop: starts a request every 1/rate s whatever the previous ones do, for `seconds`. */
async function load(send: () => Promise<boolean>, rate: number, seconds: number): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  const total = rate * seconds;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    pending.push(
      send().then(
        (ok) => {
          if (ok) latencies.push(performance.now() - t0);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), rps: latencies.length / elapsed, errors };
}

const ACTIONS: UpstreamAction[] = [
  'CreateAssetGroup',
  'ListAssetGroups',
  'GetAssetGroup',
  'UpdateAssetGroup',
  'DeleteAssetGroup',
  'CreateAsset',
  'ListAssets',
  'GetAsset',
  'UpdateAsset',
  'DeleteAsset',
  'CreateVisualValidateSession',
  'GetVisualValidateResult',
];

async function main() {
  const stub = await startStub();
  const client = createArkClient({
    baseUrl: stub.url,
    rateLimits: Object.fromEntries(ACTIONS.map((action) => [action, null])),
    connections: 64,
  });
  // One client at 500 requests/s would trip the per-client rate limit (600 a minute) at once.
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'production',
    UPSTREAM_URL: stub.url,
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const gateway = await createGateway(config, {
    upstream: client,
    logger: pino({ level: 'silent' }),
  });

  const upstreamPool = new Pool(stub.url, { connections: 64 });
  const gatewayUrl = new URL(gateway.url);
  const gatewayPool = new Pool(gatewayUrl.origin, { connections: 64 });
  const listBody = JSON.stringify({
    model: 'doubao-seedance-2-0-260128',
    PageNumber: 1,
    PageSize: 10,
  });
  const query = JSON.stringify({
    query: '{ groups(page: 1, pageSize: 10) { total items { id name kind createdAt } } }',
  });

  const direct = () =>
    upstreamPool
      .request({
        method: 'POST',
        path: '/v1/private-avatar/groups/list',
        body: listBody,
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      })
      .then(async (r) => {
        await r.body.json();
        return r.statusCode === 200;
      });
  const viaGateway = () =>
    gatewayPool
      .request({
        method: 'POST',
        path: gatewayUrl.pathname,
        body: query,
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      })
      .then(async (r) => {
        const body = (await r.body.json()) as { errors?: unknown };
        return r.statusCode === 200 && !body.errors;
      });

  // Warm up both paths (JIT, keep-alive connections), then measure.
  await load(direct, 200, 1);
  await load(viaGateway, 200, 1);
  const directFigures = await load(direct, RATE, SECONDS);
  const gatewayFigures = await load(viaGateway, RATE, SECONDS);

  stub.calls.clear();
  const nested = await gatewayPool
    .request({
      method: 'POST',
      path: gatewayUrl.pathname,
      body: JSON.stringify({
        query: `{ groups(pageSize: ${GROUPS}) { items { id assets(pageSize: 10) { total items { id status } } } } }`,
      }),
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    })
    .then(
      (r) =>
        r.body.json() as Promise<{
          data?: { groups: { items: Array<{ assets: { total: number } }> } };
          errors?: unknown;
        }>,
    );
  const nestedOk =
    !nested.errors &&
    nested.data?.groups.items.length === GROUPS &&
    nested.data.groups.items.every((group) => group.assets.total === ASSETS_PER_GROUP);

  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `\navatar-gateway bench: gateway overhead (${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version})`,
  );
  console.log(`open-loop load at ${RATE} requests/s for ${SECONDS} s each\n`);
  console.log('path                          p50 ms   p99 ms   req/s   errors');
  console.log(
    `direct undici (ListAssetGroups) ${fmt(directFigures.p50)} ${fmt(directFigures.p99)} ${directFigures.rps.toFixed(0).padStart(7)} ${String(directFigures.errors).padStart(8)}`,
  );
  console.log(
    `through the gateway (groups)    ${fmt(gatewayFigures.p50)} ${fmt(gatewayFigures.p99)} ${gatewayFigures.rps.toFixed(0).padStart(7)} ${String(gatewayFigures.errors).padStart(8)}`,
  );
  const addedP50 = gatewayFigures.p50 - directFigures.p50;
  const addedP99 = gatewayFigures.p99 - directFigures.p99;
  console.log(
    `added by the gateway            ${fmt(addedP50)} ${fmt(addedP99)}   (target ≤ 2 ms p50, ≤ 10 ms p99)`,
  );
  console.log(
    `\nnested query: ${GROUPS} groups with their assets (${ASSETS_PER_GROUP} each) -> ${nestedOk ? 'correct answer' : 'WRONG ANSWER'}`,
  );
  for (const [action, count] of [...stub.calls].sort())
    console.log(`  upstream ${action}: ${count} call(s)`);
  console.log('  (target: at most one upstream list call per 100 groups)');
  const verdict =
    addedP50 <= 2 && addedP99 <= 10 && (stub.calls.get('ListAssets') ?? 0) <= 1 && nestedOk;
  console.log(`\n${verdict ? 'targets met' : 'a target was missed'}`);

  await upstreamPool.close();
  await gatewayPool.close();
  await gateway.stop();
  await client.close();
  await stub.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
