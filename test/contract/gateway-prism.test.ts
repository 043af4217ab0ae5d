/**
 * The gateway pointed at a Prism mock of the contract (as in docker-compose.yml): every GraphQL
 * operation runs, and Prism flags no request the gateway sends.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { startPrism, type PrismServer } from '../helpers/prism.js';

let prism: PrismServer;
let gateway: RunningGateway;
let gql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  prism = await startPrism({ mode: 'mock' });
  const config = loadConfig({ PORT: '0', UPSTREAM_URL: prism.url, LOG_LEVEL: 'silent' });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  gql = graphqlClient(gateway.url, { authorization: 'Bearer prism-key' });
});

afterAll(async () => {
  await gateway?.stop();
  await prism?.stop();
});

// The ids are the contract's own examples, so Prism's answers line up with them.
const GROUP = 'group-20260601191715-9q47m';
const ASSET = 'asset-20260602153901-x7k2m';

const OPERATIONS: Array<[string, string, Record<string, unknown>]> = [
  [
    'groups',
    `{ groups(filter: { nameContains: "m", kind: VIRTUAL }) { total items { id kind assets { total } } } }`,
    {},
  ],
  ['group', `query($id: ID!) { group(id: $id) { id name kind } }`, { id: GROUP }],
  ['asset', `query($id: ID!) { asset(id: $id) { id status uri group { id } } }`, { id: ASSET }],
  [
    'assets',
    `{ assets(filter: { statuses: [PROCESSING, ACTIVE] }, pageSize: 100) { total items { id status } } }`,
    {},
  ],
  [
    'createGroup',
    `mutation { createGroup(input: { name: "mascot", description: "d" }) { id } }`,
    {},
  ],
  [
    'updateGroup',
    `mutation($id: ID!) { updateGroup(id: $id, input: { name: "n", description: "d" }) { id } }`,
    { id: GROUP },
  ],
  ['deleteGroup', `mutation($id: ID!) { deleteGroup(id: $id) }`, { id: GROUP }],
  [
    'addAssets',
    `mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://cdn.example.com/a.jpg", type: IMAGE, name: "a" }, { url: "https://cdn.example.com/b.mp4", type: VIDEO }]) { assets { id } failures { code } } }`,
    { g: GROUP },
  ],
  [
    'renameAsset',
    `mutation($id: ID!) { renameAsset(id: $id, name: "front") { id } }`,
    { id: ASSET },
  ],
  ['deleteAsset', `mutation($id: ID!) { deleteAsset(id: $id) }`, { id: ASSET }],
  [
    'startRealPersonVerification',
    `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token h5Link h5LinkExpiresAt expiresAt } }`,
    {},
  ],
  [
    'completeRealPersonVerification',
    `mutation { completeRealPersonVerification(token: "202603311449168C23BA26A1B2C3D4E5F6") { id kind } }`,
    {},
  ],
];

describe('the gateway against a Prism mock of the contract', () => {
  it.each(OPERATIONS)('%s runs without errors', async (field, query, variables) => {
    const answer = await gql(query, variables);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.[field]).toBeTruthy();
  });

  it('sent no request that Prism flagged', async () => {
    // Prism logs a request's violations after answering it: one more request flushes the log.
    await gql(`{ groups { total } }`);
    expect(prism.violations).toEqual([]);
  });
});
