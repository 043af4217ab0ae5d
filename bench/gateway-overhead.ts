/**
 * What the gateway adds on top of the upstream, and how many upstream calls a nested query costs.
 *
 * 1. Latency: an open-loop load at a fixed rate (default 500 requests/s) of a `groups` query
 *    through the gateway, and of the same ListAssetGroups call made directly with undici, both
 *    against one local upstream stub; p50, p99 and achieved requests/s side by side.
 * 2. Batching: one query for 50 groups with their assets, counting upstream calls by action.
 * 3. The ledger: the same `groups` load through a second gateway with a server-held key, whose
 *    caller is a tenant owning the stub's groups in a SQLite ledger, so every query pages the
 *    tenant's ids in the ledger, then reads them upstream by id.
 *
 * Pacing is turned off here: it exists to keep one API key under the upstream's 10 QPS for
 * ListAssetGroups, and this measures the gateway's own overhead. Run with `npm run bench`.
 * Options (env): BENCH_RATE (500), BENCH_SECONDS (5).
 */
import 'reflect-metadata';
import os from 'node:os';
import { pino } from 'pino';
import { Pool } from 'undici';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { openLedger } from '../src/ledger/index.js';
import { createServer as createGateway } from '../src/server.js';
import type { ArkAction as UpstreamAction } from '../src/upstream/ark/actions.js';
import { createArkClient } from '../src/upstream/ark/client.js';
import { openLoop as load } from './open-loop.js';
import { startStub } from './stub.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const GROUPS = 50;
const ASSETS_PER_GROUP = 2;

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
  const stub = await startStub({ groups: GROUPS, assetsPerGroup: ASSETS_PER_GROUP });
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

  // A tenant on a server-held key: its groups come from the ledger.
  const ledgerDir = await mkdtemp(join(os.tmpdir(), 'bench-ledger-'));
  const ledger = await openLedger({ path: join(ledgerDir, 'ledger.sqlite') });
  const owned = await client.listGroups({ credential: 'bench' }, { page: 1, pageSize: 100 });
  for (const group of owned.items)
    await ledger.recordGroup('bench', { id: group.id, kind: group.kind });
  const tenantGateway = await createGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'production',
      UPSTREAM_URL: stub.url,
      RATE_LIMIT_PER_MINUTE: '0',
      UPSTREAM_API_KEY: 'bench-server-key',
      GATEWAY_TOKENS: 'bench:bench-tenant-token',
    }),
    { upstream: client, logger: pino({ level: 'silent' }), ledger },
  );
  const tenantUrl = new URL(tenantGateway.url);
  const tenantPool = new Pool(tenantUrl.origin, { connections: 64 });
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
  /** One `groups` query through a gateway; ok when it answers 10 groups without errors. */
  const groupsThrough = (pool: Pool, path: string, token: string) => () =>
    pool
      .request({
        method: 'POST',
        path,
        body: query,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      })
      .then(async (r) => {
        const body = (await r.body.json()) as { errors?: unknown; data?: any };
        return r.statusCode === 200 && !body.errors && body.data.groups.items.length === 10;
      });
  const viaGateway = groupsThrough(gatewayPool, gatewayUrl.pathname, 'bench');
  const viaLedger = groupsThrough(tenantPool, tenantUrl.pathname, 'bench-tenant-token');

  // Warm up both paths (JIT, keep-alive connections), then measure.
  await load(direct, 200, 1);
  await load(viaGateway, 200, 1);
  await load(viaLedger, 200, 1);
  const directFigures = await load(direct, RATE, SECONDS);
  const gatewayFigures = await load(viaGateway, RATE, SECONDS);
  const ledgerFigures = await load(viaLedger, RATE, SECONDS);

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
  console.log(
    `… with the ledger (a tenant)   ${fmt(ledgerFigures.p50)} ${fmt(ledgerFigures.p99)} ${ledgerFigures.rps.toFixed(0).padStart(7)} ${String(ledgerFigures.errors).padStart(8)}`,
  );
  const addedP50 = gatewayFigures.p50 - directFigures.p50;
  const addedP99 = gatewayFigures.p99 - directFigures.p99;
  console.log(
    `added by the gateway            ${fmt(addedP50)} ${fmt(addedP99)}   (target ≤ 2 ms p50, ≤ 10 ms p99)`,
  );
  console.log(
    `added by the ledger (SQLite)    ${fmt(ledgerFigures.p50 - gatewayFigures.p50)} ${fmt(ledgerFigures.p99 - gatewayFigures.p99)}   (paging the tenant's ids, then reading them by id)`,
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
  await tenantPool.close();
  await gateway.stop();
  await tenantGateway.stop();
  await ledger.close();
  await rm(ledgerDir, { recursive: true, force: true });
  await client.close();
  await stub.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
