/**
 * Subscriptions as a client meets them: the embedded gateway (`startGateway`, simulator mode,
 * pass-through keys) over a real WebSocket with graphql-ws's own client. Asset status from
 * subscribe to final, the checks made at subscribe time, isolation between keys, and live
 * real-person verification sharing ⑫'s single use with the mutation.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { Results, until, wsClient, type GraphQLResult } from '../helpers/ws-client.js';
import type { Client } from 'graphql-ws';

const ASSET_EVENTS = `subscription ($ids: [ID!], $g: ID) {
  assetStatusChanged(assetIds: $ids, groupId: $g) {
    kind previousStatus stale staleSince staleReason
    asset { id groupId status failure { code } group { id } }
  }
}`;

const VERIFICATION = `subscription ($token: String!) {
  realPersonVerification(token: $token) { status group { id kind } }
}`;

let gateway: RunningGateway;
let gqlA: ReturnType<typeof graphqlClient>;
let gqlB: ReturnType<typeof graphqlClient>;
let clientA: Client;
let clientB: Client;

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    SIMULATOR_ACTIVATION_MS: '600',
    POLL_INTERVAL_MS: '50',
    RATE_LIMIT_PER_MINUTE: '0',
    // So that our own limit of 100 asset ids answers, not the generic list limit.
    GRAPHQL_MAX_LIST_LENGTH: '1000',
  });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  gqlA = graphqlClient(gateway.url, { authorization: 'Bearer key-a' });
  gqlB = graphqlClient(gateway.url, { authorization: 'Bearer key-b' });
  clientA = wsClient(gateway.url, 'key-a');
  clientB = wsClient(gateway.url, 'key-b');
});

afterAll(async () => {
  await clientA?.dispose();
  await clientB?.dispose();
  await gateway?.stop();
});

async function createGroup(gql: typeof gqlA, name = 'live'): Promise<string> {
  const answer = await gql(`mutation ($n: String!) { createGroup(input: { name: $n }) { id } }`, {
    n: name,
  });
  expect(answer.errors).toBeUndefined();
  return answer.data.createGroup.id;
}

async function addAssets(gql: typeof gqlA, groupId: string, urls: string[]): Promise<string[]> {
  const answer = await gql(
    `mutation ($g: ID!, $a: [NewAssetInput!]!) {
       addAssets(groupId: $g, assets: $a) { assets { id status } failures { code } }
     }`,
    { g: groupId, a: urls.map((url) => ({ url, type: 'IMAGE' })) },
  );
  expect(answer.data.addAssets.failures).toEqual([]);
  return answer.data.addAssets.assets.map((a: { id: string }) => a.id);
}

/** `[previousStatus, status]` of every event about `assetId`. */
function transitions(results: GraphQLResult[], assetId: string): Array<[string | null, string]> {
  return results
    .map((r) => r.data?.assetStatusChanged)
    .filter((e) => e?.asset.id === assetId)
    .map((e) => [e.previousStatus, e.asset.status]);
}

const isFinal = (status: string) => status === 'ACTIVE' || status === 'FAILED';

function subscribers(): number {
  return gateway.live.watcher.stats().subscribers;
}

describe('assetStatusChanged', () => {
  it('shows each asset added to a watched group as PROCESSING, then ACTIVE or FAILED', async () => {
    const groupId = await createGroup(gqlA);
    const before = subscribers();
    const live = new Results(clientA, ASSET_EVENTS, { g: groupId });
    // Opened before the assets exist: wait until the server holds the subscription.
    await until(subscribers, (n) => n === before + 1, 'the subscription to start');

    const [ok, bad] = await addAssets(gqlA, groupId, [
      'https://cdn.example.com/front.jpg',
      'https://cdn.example.com/fail-face.jpg',
    ]);
    await live.until(
      (results) => [ok!, bad!].every((id) => transitions(results, id).some(([, s]) => isFinal(s))),
      'both assets to settle',
    );

    expect(transitions(live.results, ok!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
    expect(transitions(live.results, bad!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'FAILED'],
    ]);
    const events = live.data('assetStatusChanged');
    expect(events.every((e) => e.kind === 'STATUS' && e.stale === false)).toBe(true);
    expect(events.every((e) => e.staleSince === null && e.staleReason === null)).toBe(true);
    expect(events.every((e) => e.asset.group.id === groupId)).toBe(true);
    expect(events.find((e) => e.asset.status === 'FAILED').asset.failure).toEqual({
      code: 'FaceMismatch',
    });
    // A group watch runs until the client ends it.
    expect(live.done).toBe(false);
    live.unsubscribe();
    await until(subscribers, (n) => n === before, 'the watcher to let the subscription go');
  });

  it('sends the current status of watched assets first and completes after the final one', async () => {
    const groupId = await createGroup(gqlA);
    const [id] = await addAssets(gqlA, groupId, ['https://cdn.example.com/side.jpg']);
    const live = new Results(clientA, ASSET_EVENTS, { ids: [id] });
    await live.untilDone();
    expect(live.results.every((r) => r.errors === undefined)).toBe(true);
    expect(transitions(live.results, id!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);

    // A late subscriber gets the final status as its first (and only) event.
    const late = new Results(clientA, ASSET_EVENTS, { ids: [id] });
    await late.untilDone();
    expect(transitions(late.results, id!)).toEqual([[null, 'ACTIVE']]);
  });

  it.each([
    ['neither assetIds nor groupId', {}, 'assetIds'],
    ['an empty list', { ids: [] }, 'assetIds'],
    ['101 ids', { ids: Array.from({ length: 101 }, (_, i) => `asset-${i}`) }, 'assetIds'],
    ['an empty id', { ids: ['asset-1', ''] }, 'assetIds[1]'],
    ['an id of 129 characters', { ids: ['a'.repeat(129)] }, 'assetIds[0]'],
    ['a blank group id', { g: '  ' }, 'groupId'],
  ])('refuses %s with BAD_USER_INPUT when subscribing', async (_, variables, field) => {
    const live = new Results(clientA, ASSET_EVENTS, variables);
    await live.untilDone();
    expect(live.results).toHaveLength(1);
    expect(live.results[0]!.data ?? null).toBeNull();
    expect(live.results[0]!.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field,
    });
  });

  it('refuses a variable of the wrong type with BAD_USER_INPUT', async () => {
    const live = new Results(clientA, ASSET_EVENTS, { g: { not: 'an id' } });
    await live.untilDone();
    const errors = (live.error ?? live.results[0]?.errors) as GraphQLResult['errors'];
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses unknown assets and groups with NOT_FOUND when subscribing', async () => {
    for (const variables of [{ ids: ['asset-20990101000000-nope0'] }, { g: 'group-nope' }]) {
      const live = new Results(clientA, ASSET_EVENTS, variables);
      await live.untilDone();
      expect(live.results).toHaveLength(1);
      expect(live.results[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('keeps keys apart: B cannot watch A’s assets or group and never sees A’s events', async () => {
    const groupA = await createGroup(gqlA, 'a');
    const groupB = await createGroup(gqlB, 'b');
    const before = subscribers();
    const watchB = new Results(clientB, ASSET_EVENTS, { g: groupB });
    const watchA = new Results(clientA, ASSET_EVENTS, { g: groupA });
    await until(subscribers, (n) => n === before + 2, 'both subscriptions to start');

    const [assetA] = await addAssets(gqlA, groupA, ['https://cdn.example.com/a.jpg']);
    for (const variables of [{ ids: [assetA] }, { g: groupA }]) {
      const stolen = new Results(clientB, ASSET_EVENTS, variables);
      await stolen.untilDone();
      expect(stolen.results).toHaveLength(1);
      expect(stolen.results[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }

    await watchA.until(
      (results) => transitions(results, assetA!).some(([, s]) => s === 'ACTIVE'),
      'A’s asset to become ACTIVE',
    );
    // Every event A got was pushed to its subscribers at once; B has none of them.
    expect(watchB.results).toEqual([]);
    watchA.unsubscribe();
    watchB.unsubscribe();
  });

  it('serves only subscriptions over WebSocket', async () => {
    const live = new Results(clientA, `query { groups { total } }`);
    await live.untilDone();
    expect((live.error as GraphQLResult['errors'])?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('serves subscriptions only over WebSocket', async () => {
    const answer = await gqlA(`subscription { assetStatusChanged(groupId: "g") { kind } }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });
});

describe('realPersonVerification', () => {
  async function start(gql = gqlA): Promise<string> {
    const answer = await gql(
      `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token } }`,
    );
    expect(answer.errors).toBeUndefined();
    return answer.data.startRealPersonVerification.token;
  }

  async function liveness(token: string, outcome: 'pass' | 'fail'): Promise<void> {
    const response = await fetch(new URL('/simulator/h5/verify', gateway.url), {
      method: 'POST',
      body: new URLSearchParams({ token, outcome }),
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
  }

  async function complete(token: string) {
    return gqlA(
      `mutation ($t: String!) { completeRealPersonVerification(token: $t) { id kind } }`,
      {
        t: token,
      },
    );
  }

  it('reports PENDING, then VERIFIED with the group; the mutation then returns the same group', async () => {
    const token = await start();
    const live = new Results(clientA, VERIFICATION, { token });
    await live.until((results) => results.length === 1, 'the current status');
    expect(live.data('realPersonVerification')).toEqual([{ status: 'PENDING', group: null }]);

    await liveness(token, 'pass');
    await live.untilDone();
    const events = live.data('realPersonVerification');
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ status: 'VERIFIED', group: { kind: 'REAL' } });

    // ⑫ is single-use and the subscription spent the token: the mutation still gets the group.
    const exchanged = await complete(token);
    expect(exchanged.errors).toBeUndefined();
    expect(exchanged.data.completeRealPersonVerification).toEqual(events[1].group);
  });

  it('reports VERIFIED at once for a token the mutation already exchanged', async () => {
    const token = await start();
    await liveness(token, 'pass');
    const exchanged = await complete(token);
    const group = exchanged.data.completeRealPersonVerification;
    expect(group.kind).toBe('REAL');

    const live = new Results(clientA, VERIFICATION, { token });
    await live.untilDone();
    expect(live.data('realPersonVerification')).toEqual([{ status: 'VERIFIED', group }]);
  });

  it('reports FAILED when the person fails the check, then completes', async () => {
    const token = await start();
    const live = new Results(clientA, VERIFICATION, { token });
    await live.until((results) => results.length === 1, 'the current status');
    await liveness(token, 'fail');
    await live.untilDone();
    expect(live.data('realPersonVerification')).toEqual([
      { status: 'PENDING', group: null },
      { status: 'FAILED', group: null },
    ]);
    expect(gateway.live.verifications.stats()).toMatchObject({ pollers: 0 });
  });

  it('refuses an unknown token, or another key’s, with VERIFICATION_NOT_FOUND when subscribing', async () => {
    const unknown = new Results(clientA, VERIFICATION, { token: 'no-such-token' });
    const othersToken = await start(gqlA);
    const foreign = new Results(clientB, VERIFICATION, { token: othersToken });
    for (const live of [unknown, foreign]) {
      await live.untilDone();
      expect(live.results).toHaveLength(1);
      expect(live.results[0]!.errors?.[0]?.extensions?.code).toBe('VERIFICATION_NOT_FOUND');
    }
  });
});
