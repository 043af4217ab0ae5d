/**
 * PostgreSQL going away under a running gateway: operations that need the ledger answer
 * `LEDGER_UNAVAILABLE` (a stable code, a clear message), `/readyz` says not ready, and both
 * recover when the database is back, without a restart.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { eventually, graphqlClient } from '../helpers/graphql-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';
import { startPgRelay, type PgRelay } from '../ledger/stores.js';

const TOKEN = 'alice-token-0123456789';
const CREATE = `mutation ($key: String) { createGroup(input: { name: "G", idempotencyKey: $key }) { id } }`;

describe('the ledger database goes down and comes back', () => {
  const pg = pgLedgerEnv();
  let relay: PgRelay;
  let gateway: RunningGateway;
  let gql: ReturnType<typeof graphqlClient>;

  beforeAll(async () => {
    relay = await startPgRelay();
    gateway = await startGateway(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        UPSTREAM_API_KEY: 'sk-shared-upstream-0123456789',
        GATEWAY_TOKENS: `alice:${TOKEN}`,
        RATE_LIMIT_PER_MINUTE: '0',
        DATABASE_URL: relay.url,
        LEDGER_SCHEMA: pg.env.LEDGER_SCHEMA,
      }),
      { logger: pino({ level: 'silent' }), readinessCacheMs: 0 },
    );
    gql = graphqlClient(gateway.url, { authorization: `Bearer ${TOKEN}` });
  });

  afterAll(async () => {
    await relay?.restore().catch(() => undefined);
    await gateway?.stop();
    await relay?.close();
    await pg.drop();
  });

  const readyz = async () => {
    const response = await fetch(new URL('/readyz', gateway.url));
    const body = (await response.json()) as { checks: Array<{ name: string; ok: boolean }> };
    return { status: response.status, ledger: body.checks.find((c) => c.name === 'ledger')?.ok };
  };

  it('answers LEDGER_UNAVAILABLE and not ready while down, and recovers by itself', async () => {
    expect((await gql(CREATE, { key: 'before' })).data.createGroup.id).toEqual(expect.any(String));
    expect(await readyz()).toEqual({ status: 200, ledger: true });

    await relay.cut();
    const refused = await gql(CREATE, { key: 'during' });
    expect(refused.data).toBeNull();
    expect(refused.errors).toEqual([
      expect.objectContaining({
        message: "The gateway's ledger is unavailable right now; try again shortly.",
        extensions: expect.objectContaining({ code: 'LEDGER_UNAVAILABLE' }),
      }),
    ]);
    // Without a key too: refused before the upstream is asked to create anything.
    const unkeyed = await gql(CREATE);
    expect(unkeyed.errors?.[0]?.extensions?.code).toBe('LEDGER_UNAVAILABLE');
    const listed = await gql('{ groups { total } }');
    expect(listed.errors?.[0]?.extensions?.code).toBe('LEDGER_UNAVAILABLE');
    expect(await readyz()).toEqual({ status: 503, ledger: false });

    await relay.restore();
    const created = await eventually(
      () => gql(CREATE, { key: 'during' }),
      (answer) => answer.data?.createGroup?.id !== undefined,
    );
    expect(created.errors).toBeUndefined();
    expect(await readyz()).toEqual({ status: 200, ledger: true });
    expect((await gql('{ groups { total } }')).data.groups.total).toBe(2);
  });
});
