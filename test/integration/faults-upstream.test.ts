/**
 * Fault survival against the upstream: a gateway started with `UPSTREAM_URL` pointing at a fault
 * proxy (`test/helpers/fault-proxy.ts`) in front of a stand-alone simulator. The upstream is
 * down at start-up, flaps, throttles with 429 storms, or hangs; the gateway stays up, answers
 * typed errors within its deadline, `/readyz` says whether the upstream answers, the poller backs
 * off and recovers, and every subscriber gets each final status exactly once.
 */
import type { Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { startSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { eventually, graphqlClient } from '../helpers/graphql-client.js';
import { Results, until, wsClient, type GraphQLResult } from '../helpers/ws-client.js';

const KEY = 'fault-survival-key-0123';
const INTERVAL = 50;
/** Slack for timers and the event loop when asserting "within the deadline". */
const MARGIN_MS = 700;

const ASSET_EVENTS = `subscription ($ids: [ID!], $g: ID) {
  assetStatusChanged(assetIds: $ids, groupId: $g) {
    kind previousStatus stale staleReason asset { id status failure { code } }
  }
}`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  proxy: FaultProxy;
  gateway: RunningGateway;
  origin: string;
  gql: ReturnType<typeof graphqlClient>;
  client: () => Client;
}

/** A simulator, the fault proxy in front of it (in `initial` mode), and a gateway on the proxy. */
async function rig(
  options: { initial?: 'pass' | 'down'; activationMs?: number; timeoutMs?: number } = {},
): Promise<Rig> {
  const state = new SimulatorState({ activationMs: options.activationMs ?? 1000 });
  const sim = await startSimulator(state);
  cleanups.push(() => sim.stop());
  const proxy = await startFaultProxy(sim.url, options.initial ?? 'pass');
  cleanups.push(() => proxy.stop());
  const gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      UPSTREAM_URL: proxy.url,
      UPSTREAM_CREATE_ASSET_PER_MINUTE: '60000',
      UPSTREAM_TIMEOUT_MS: String(options.timeoutMs ?? 1500),
      RATE_LIMIT_PER_MINUTE: '0',
      POLL_INTERVAL_MS: String(INTERVAL),
    }),
    { logger: pino({ level: 'silent' }), readinessCacheMs: 50 },
  );
  cleanups.push(() => gateway.stop());
  return {
    proxy,
    gateway,
    origin: new URL(gateway.url).origin,
    gql: graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` }),
    client: () => {
      const client = wsClient(gateway.url, KEY);
      cleanups.push(() => client.dispose() as Promise<void>);
      return client;
    },
  };
}

async function status(origin: string, path: '/healthz' | '/readyz') {
  const response = await fetch(`${origin}${path}`);
  return { status: response.status, body: (await response.json()) as any };
}

/** Waits until `/readyz` answers `expected`. */
function readyz(origin: string, expected: 200 | 503) {
  return eventually(
    () => status(origin, '/readyz'),
    (answer) => answer.status === expected,
    { timeoutMs: 5000, everyMs: 20 },
  );
}

async function createGroup(gql: Rig['gql']): Promise<string> {
  const answer = await gql(`mutation { createGroup(input: { name: "faults" }) { id } }`);
  expect(answer.errors).toBeUndefined();
  return answer.data.createGroup.id;
}

async function addAssets(gql: Rig['gql'], groupId: string, urls: string[]): Promise<string[]> {
  const answer = await gql(
    `mutation ($g: ID!, $a: [NewAssetInput!]!) {
       addAssets(groupId: $g, assets: $a) { assets { id } failures { code } }
     }`,
    { g: groupId, a: urls.map((url) => ({ url, type: 'IMAGE' })) },
  );
  expect(answer.errors).toBeUndefined();
  expect(answer.data.addAssets.failures).toEqual([]);
  return answer.data.addAssets.assets.map((a: { id: string }) => a.id);
}

function events(results: GraphQLResult[]): any[] {
  return results.flatMap((r) => (r.data?.assetStatusChanged ? [r.data.assetStatusChanged] : []));
}

/** `[previousStatus, status]` of every STATUS event about `assetId`. */
function transitions(results: GraphQLResult[], assetId: string) {
  return events(results)
    .filter((e) => e.kind === 'STATUS' && e.asset.id === assetId)
    .map((e) => [e.previousStatus, e.asset.status]);
}

function hasFinal(results: GraphQLResult[], assetId: string): boolean {
  return transitions(results, assetId).some(([, to]) => to === 'ACTIVE' || to === 'FAILED');
}

const code = (answer: { errors?: Array<{ extensions?: Record<string, any> }> }) =>
  answer.errors?.[0]?.extensions?.['code'];

describe('an upstream that is down at start-up', () => {
  it('does not stop the gateway: it answers UPSTREAM_UNAVAILABLE at once, then works when the upstream comes up', async () => {
    const { proxy, origin, gql, client } = await rig({ initial: 'down' });

    expect(await status(origin, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await readyz(origin, 503)).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        checks: [
          { name: 'ledger', ok: true },
          { name: 'upstream', ok: false },
        ],
      },
    });
    const started = Date.now();
    const [query, mutation] = await Promise.all([
      gql('{ groups { total } }'),
      gql('mutation { createGroup(input: { name: "early" }) { id } }'),
    ]);
    // Refused connects are retried with short backoff, not waited out to the deadline.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(code(query)).toBe('UPSTREAM_UNAVAILABLE');
    expect(code(mutation)).toBe('UPSTREAM_UNAVAILABLE');
    const early = new Results(client(), ASSET_EVENTS, { ids: ['asset-20260602153901-x7k2m'] });
    await early.untilDone();
    expect(early.results[0]?.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

    await proxy.set('pass');
    expect(await readyz(origin, 200)).toEqual({
      status: 200,
      body: {
        status: 'ready',
        checks: [
          { name: 'ledger', ok: true },
          { name: 'upstream', ok: true },
        ],
      },
    });
    const groupId = await createGroup(gql);
    const ids = await addAssets(gql, groupId, ['https://cdn.example.com/late.jpg']);
    const live = new Results(client(), ASSET_EVENTS, { ids });
    await live.untilDone(5000);
    expect(transitions(live.results, ids[0]!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);

    // And again: the listener goes away, /readyz follows, and comes back.
    await proxy.set('down');
    expect((await readyz(origin, 503)).body.checks).toEqual([
      { name: 'ledger', ok: true },
      { name: 'upstream', ok: false },
    ]);
    expect(code(await gql('{ groups { total } }'))).toBe('UPSTREAM_UNAVAILABLE');
    await proxy.set('pass');
    await readyz(origin, 200);
    expect((await gql('{ groups { total } }')).data).toEqual({ groups: { total: 1 } });
  });
});

describe('a flapping upstream', () => {
  it('still gives every subscriber each final status exactly once', async () => {
    const { proxy, gateway, gql, client } = await rig({ activationMs: 1200 });
    const groupId = await createGroup(gql);
    const ids = await addAssets(gql, groupId, [
      'https://cdn.example.com/a.jpg',
      'https://cdn.example.com/b.jpg',
      'https://cdn.example.com/fail-face.jpg',
      'https://cdn.example.com/fail-moderation.jpg',
    ]);
    const byGroup = [client(), client(), client()].map(
      (c) => new Results(c, ASSET_EVENTS, { g: groupId }),
    );
    const direct = new Results(client(), ASSET_EVENTS, { ids });
    const all = [...byGroup, direct];
    for (const live of all) {
      await live.until(
        (results) => ids.every((id) => transitions(results, id).length === 1),
        'the initial states',
      );
    }

    // Six failing answers, then three good ones, over and over: with the client's three
    // attempts per call, some polls fail and some succeed.
    const flapFrom = proxy.requests.length;
    const errorsBefore = gateway.live.watcher.stats().pollErrorsTotal;
    proxy.script = (call) => (call % 9 < 6 ? '503' : 'pass');
    for (const live of all) {
      await live.until(
        (results) => ids.every((id) => hasFinal(results, id)),
        'every final status',
        15_000,
      );
    }
    await direct.untilDone();
    const flapped = proxy.requests.slice(flapFrom);
    expect(flapped.filter((r) => r.fault === '503').length).toBeGreaterThan(0);
    expect(flapped.filter((r) => r.fault === 'pass').length).toBeGreaterThan(0);
    expect(gateway.live.watcher.stats().pollErrorsTotal).toBeGreaterThan(errorsBefore);

    // One more group sweep, answered, to give a duplicate a chance to show up.
    proxy.script = null;
    const sweeps = proxy.count('ListAssets');
    await until(
      () => proxy.count('ListAssets'),
      (n) => n > sweeps,
      'another sweep',
      10_000,
    );
    const ticks = gateway.live.watcher.stats().ticksTotal;
    await until(
      () => gateway.live.watcher.stats().ticksTotal,
      (n) => n >= ticks + 2,
      'two more iterations',
    );
    const expected: Record<string, string> = {
      [ids[0]!]: 'ACTIVE',
      [ids[1]!]: 'ACTIVE',
      [ids[2]!]: 'FAILED',
      [ids[3]!]: 'FAILED',
    };
    for (const live of all) {
      expect(live.results.every((r) => r.errors === undefined)).toBe(true);
      for (const id of ids) {
        expect(transitions(live.results, id)).toEqual([
          [null, 'PROCESSING'],
          ['PROCESSING', expected[id]],
        ]);
      }
      // Anything else in between is a STALE or RECOVERED notice.
      const kinds = new Set(events(live.results).map((e) => e.kind));
      for (const kind of kinds) expect(['STATUS', 'STALE', 'RECOVERED']).toContain(kind);
    }
    for (const live of byGroup) live.unsubscribe();
    await until(
      () => gateway.live.watcher.stats().subscribers,
      (n) => n === 0,
      'the subscriptions to end',
    );
  });
});

describe('a 429 storm', () => {
  it('backs the poller off, honouring Retry-After, answers RATE_LIMITED, and resumes after', async () => {
    const { proxy, gql, client } = await rig({ activationMs: 1500 });
    const groupId = await createGroup(gql);
    const [id] = await addAssets(gql, groupId, ['https://cdn.example.com/storm.jpg']);
    const live = new Results(client(), ASSET_EVENTS, { ids: [id] });
    await live.until((results) => results.length === 1, 'the initial state');

    proxy.retryAfterSeconds = 1;
    await proxy.set('429');
    const stormFrom = Date.now();
    const started = Date.now();
    const query = await gql('{ groups { total } }');
    expect(Date.now() - started).toBeLessThan(1500 + MARGIN_MS);
    expect(query.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1 });
    // Subscribers are told their status cannot be confirmed.
    await live.until(
      (results) => events(results).some((e) => e.kind === 'STALE'),
      'a STALE notice',
      5000,
    );
    const stale = events(live.results).find((e) => e.kind === 'STALE');
    expect(stale).toMatchObject({ stale: true, staleReason: 'RATE_LIMITED' });
    // Let the storm last three Retry-After periods.
    await until(
      () => Date.now(),
      (now) => now - stormFrom >= 3000,
      'the storm to last',
      5000,
    );
    await proxy.set('pass');
    const stormTo = Date.now();

    const polls = proxy.requests.filter(
      (r) =>
        r.at >= stormFrom &&
        r.at < stormTo &&
        (r.action === 'GetAsset' || r.action === 'ListAssets'),
    );
    // Without back-off: one read per 50 ms interval, 60 in the storm. With it: one call's
    // attempts per Retry-After period.
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.length).toBeLessThanOrEqual(Math.ceil((stormTo - stormFrom) / 1000) + 1);
    for (let i = 1; i < polls.length; i++) {
      expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(1000 - 20);
    }

    await live.untilDone(10_000);
    expect(transitions(live.results, id!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
    expect(events(live.results).some((e) => e.kind === 'RECOVERED')).toBe(true);
    expect((await gql('{ groups { total } }')).data).toEqual({ groups: { total: 1 } });
  });
});

describe('a slow upstream', () => {
  it('fails calls with UPSTREAM_TIMEOUT within the deadline and stays healthy', async () => {
    const TIMEOUT = 500;
    const { proxy, origin, gql } = await rig({ timeoutMs: TIMEOUT });
    await readyz(origin, 200);

    await proxy.set('slow');
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => gql('{ groups { total } }')),
    );
    expect(Date.now() - started).toBeLessThan(TIMEOUT + MARGIN_MS);
    for (const answer of answers) expect(code(answer)).toBe('UPSTREAM_TIMEOUT');
    expect(await status(origin, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    // The probe gets no answer either: not ready.
    expect((await readyz(origin, 503)).body.checks).toEqual([
      { name: 'ledger', ok: true },
      { name: 'upstream', ok: false },
    ]);

    await proxy.set('pass');
    await readyz(origin, 200);
    expect((await gql('{ groups { total } }')).data).toEqual({ groups: { total: 0 } });
  });
});
