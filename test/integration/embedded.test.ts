/**
 * The embedded default as a new user meets it: `startGateway` with no `UPSTREAM_URL`, over real
 * HTTP, through the real upstream client to the simulator mounted under `/simulator`. Every
 * operation, a whole real-person flow, and assets that end ACTIVE and FAILED; the H5 link's
 * lifetime (`H5_LINK_TTL_SECONDS`) apart from the token's.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { eventually, graphqlClient } from '../helpers/graphql-client.js';

let gateway: RunningGateway;
let gql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  const config = loadConfig({ PORT: '0', SIMULATOR_ACTIVATION_MS: '300', LOG_LEVEL: 'silent' });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  gql = graphqlClient(gateway.url, { authorization: 'Bearer embedded-test' });
});

afterAll(() => gateway?.stop());

describe('the embedded default (no UPSTREAM_URL)', () => {
  it('runs on the simulator, mounted on the gateway’s own port', () => {
    expect(gateway.mode).toBe('simulator');
    expect(new URL(gateway.simulatorUrl!).port).toBe(new URL(gateway.url).port);
  });

  it('manages a virtual group and its assets end to end', async () => {
    const created = await gql(
      `mutation { createGroup(input: { name: "mascot", description: "Brand mascot" }) { id kind } }`,
    );
    expect(created.errors).toBeUndefined();
    const groupId = created.data.createGroup.id;
    expect(created.data.createGroup.kind).toBe('VIRTUAL');

    const updated = await gql(
      `mutation($id: ID!) { updateGroup(id: $id, input: { name: "mascot-final" }) { name } }`,
      { id: groupId },
    );
    expect(updated.data.updateGroup.name).toBe('mascot-final');

    const added = await gql(
      `mutation($g: ID!, $a: [NewAssetInput!]!) {
         addAssets(groupId: $g, assets: $a) { assets { id status uri } failures { index code } }
       }`,
      {
        g: groupId,
        a: [
          { url: 'https://cdn.example.com/front.jpg', type: 'IMAGE', name: 'front' },
          { url: 'https://cdn.example.com/fail-moderation.mp4', type: 'VIDEO' },
          { url: 'https://cdn.example.com/download-fails.jpg', type: 'IMAGE' },
        ],
      },
    );
    expect(added.data.addAssets.failures).toEqual([{ index: 2, code: 'BAD_USER_INPUT' }]);
    const [front, video] = added.data.addAssets.assets;
    expect(front).toMatchObject({ status: 'PROCESSING', uri: `asset://${front.id}` });

    const settled = await eventually(
      () =>
        gql(
          `query($g: ID!) { group(id: $g) { assets { items { id status failure { code } } } } }`,
          { g: groupId },
        ),
      (answer) => answer.data.group.assets.items.every((a: any) => a.status !== 'PROCESSING'),
    );
    const byId = Object.fromEntries(settled.data.group.assets.items.map((a: any) => [a.id, a]));
    expect(byId[front.id]).toMatchObject({ status: 'ACTIVE', failure: null });
    expect(byId[video.id]).toMatchObject({
      status: 'FAILED',
      failure: { code: 'ContentModeration' },
    });

    const renamed = await gql(
      `mutation($id: ID!) { renameAsset(id: $id, name: "front-v2") { name } }`,
      {
        id: front.id,
      },
    );
    expect(renamed.data.renameAsset.name).toBe('front-v2');
    const listed = await gql(
      `query($g: [ID!]) { assets(filter: { groupIds: $g, statuses: [ACTIVE] }) { total items { id group { id } } } }`,
      { g: [groupId] },
    );
    expect(listed.data.assets).toMatchObject({
      total: 1,
      items: [{ id: front.id, group: { id: groupId } }],
    });

    expect(
      (await gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: front.id })).data,
    ).toEqual({
      deleteAsset: front.id,
    });
    expect((await gql(`query($id: ID!) { asset(id: $id) { id } }`, { id: front.id })).data).toEqual(
      { asset: null },
    );
    expect(
      (await gql(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: groupId })).data,
    ).toEqual({
      deleteGroup: groupId,
    });
    expect((await gql(`query($id: ID!) { group(id: $id) { id } }`, { id: groupId })).data).toEqual({
      group: null,
    });
  });

  it('runs a whole real-person flow through the H5 page', async () => {
    const started = await gql(
      `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token h5Link h5LinkExpiresAt expiresAt } }`,
    );
    const { token, h5Link } = started.data.startRealPersonVerification;
    expect(new URL(h5Link).pathname).toBe('/simulator/h5/verify');

    const early = await gql(
      `mutation($t: String!) { completeRealPersonVerification(token: $t) { id } }`,
      {
        t: token,
      },
    );
    expect(early.errors?.[0]?.extensions?.code).toBe('VERIFICATION_PENDING');

    const click = await fetch(h5Link.replace('localhost', '127.0.0.1'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, outcome: 'pass' }),
      redirect: 'manual',
    });
    expect(click.status).toBe(303);

    const done = await gql(
      `mutation($t: String!) { completeRealPersonVerification(token: $t) { id kind name } }`,
      { t: token },
    );
    expect(done.errors).toBeUndefined();
    expect(done.data.completeRealPersonVerification.kind).toBe('REAL');

    // ⑫ is single-use upstream; the gateway remembers the group for the token's lifetime.
    const again = await gql(
      `mutation($t: String!) { completeRealPersonVerification(token: $t) { id } }`,
      {
        t: token,
      },
    );
    expect(again.data.completeRealPersonVerification.id).toBe(
      done.data.completeRealPersonVerification.id,
    );

    const groups = await gql(`{ groups(filter: { kind: REAL }) { total items { id } } }`);
    expect(groups.data.groups.items.map((g: any) => g.id)).toContain(
      done.data.completeRealPersonVerification.id,
    );
  });

  it('keeps API keys apart', async () => {
    const mine = await gql(`mutation { createGroup(input: { name: "private" }) { id } }`);
    const other = graphqlClient(gateway.url, { authorization: 'Bearer someone-else' });
    const seen = await other(`query($id: ID!) { group(id: $id) { id } }`, {
      id: mine.data.createGroup.id,
    });
    expect(seen.data).toEqual({ group: null });
  });

  it('counts upstream calls by action and outcome on /metrics', async () => {
    await gql(`{ groups { total } }`);
    await gql(`query { asset(id: "asset-20260101000000-nope0") { id } }`);
    const text = await (await fetch(new URL('/metrics', gateway.url))).text();
    expect(text).toMatch(/upstream_calls_total\{action="ListAssetGroups",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/upstream_calls_total\{action="GetAsset",outcome="NOT_FOUND"\} [1-9]/);
    expect(text).toMatch(
      /upstream_request_duration_seconds_count\{action="ListAssetGroups"\} [1-9]/,
    );
  });
});

/** Short, yet long enough for two sessions, a page and a click on a loaded machine. */
const LINK_TTL_S = 3;

describe('the embedded simulator with a short H5_LINK_TTL_SECONDS', () => {
  let short: RunningGateway;
  let ask: ReturnType<typeof graphqlClient>;

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      H5_LINK_TTL_SECONDS: String(LINK_TTL_S),
      LOG_LEVEL: 'silent',
    });
    short = await startGateway(config, { logger: pino({ level: 'silent' }) });
    ask = graphqlClient(short.url, { authorization: 'Bearer short-link-test' });
  });

  afterAll(() => short?.stop());

  interface Session {
    token: string;
    h5Link: string;
    h5LinkExpiresAt: string;
    expiresAt: string;
  }

  async function begin(): Promise<Session> {
    const started = await ask(
      `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token h5Link h5LinkExpiresAt expiresAt } }`,
    );
    expect(started.errors).toBeUndefined();
    const session: Session = started.data.startRealPersonVerification;
    return { ...session, h5Link: session.h5Link.replace('localhost', '127.0.0.1') };
  }

  const exchange = (token: string) =>
    ask(`mutation($t: String!) { completeRealPersonVerification(token: $t) { kind } }`, {
      t: token,
    });

  it('closes the H5 page (410) when it said, while the token still exchanges', async () => {
    const before = Date.now();
    const [passed, waiting] = [await begin(), await begin()];
    const after = Date.now();
    for (const session of [passed, waiting]) {
      const link = Date.parse(session.h5LinkExpiresAt);
      expect(link).toBeGreaterThanOrEqual(before + LINK_TTL_S * 1000);
      expect(link).toBeLessThanOrEqual(after + LINK_TTL_S * 1000);
      // The token keeps the default 30 minutes.
      expect(Date.parse(session.expiresAt) - link).toBe(30 * 60_000 - LINK_TTL_S * 1000);
    }

    // One person opens the link in time and passes; the other has it open but does nothing.
    expect((await fetch(passed.h5Link)).status).toBe(200);
    const click = await fetch(passed.h5Link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: passed.token, outcome: 'pass' }),
      redirect: 'manual',
    });
    expect(click.status).toBe(303);
    expect((await fetch(waiting.h5Link)).status).toBe(200);

    // From the reported time on, the page no longer opens (the simulator's clock started a
    // moment after the gateway's, so allow it that moment).
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Date.parse(waiting.h5LinkExpiresAt) - Date.now())),
    );
    const late = await eventually(
      () => fetch(waiting.h5Link),
      (response) => response.status !== 200,
      { timeoutMs: 2000 },
    );
    expect(late.status).toBe(410);
    await expect(late.text()).resolves.toContain('expired');

    // The tokens are still good: pending for the one who did not finish, the group for the other.
    const pending = await exchange(waiting.token);
    expect(pending.errors?.[0]?.extensions?.code).toBe('VERIFICATION_PENDING');
    const done = await exchange(passed.token);
    expect(done.errors).toBeUndefined();
    expect(done.data.completeRealPersonVerification.kind).toBe('REAL');
  });
});
