/**
 * The gateway in the apimart dialect pointed at a Prism mock of the contract's apimart calls:
 * every GraphQL operation runs, and Prism flags no request the gateway sends.
 *
 * Prism answers each call with its first example, whatever was asked: a task read always shows
 * step 1's session task, and step 2 answers step 1's bare task. The gateway must still send only
 * valid requests; where Prism's answer cannot be the real one (step 2), the test asserts the
 * gateway's refusal of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { startPrism, type PrismServer } from '../helpers/prism.js';

let prism: PrismServer;
let gateway: RunningGateway;
let ledger: Ledger;
let dir: string;
let gql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  prism = await startPrism({ mode: 'mock' });
  dir = await mkdtemp(join(tmpdir(), 'apimart-prism-'));
  ledger = await openLedger({ path: join(dir, 'ledger.sqlite') });
  const config = loadConfig({
    PORT: '0',
    UPSTREAM_URL: prism.url,
    UPSTREAM_DIALECT: 'apimart',
    LOG_LEVEL: 'silent',
  });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }), ledger });
  gql = graphqlClient(gateway.url, { authorization: 'Bearer prism-key' });
});

afterAll(async () => {
  await gateway?.stop();
  await ledger?.close();
  await prism?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The contract's example group id: what Prism answers every group create with. */
const GROUP = 'group-20260601191715-9q47m';
/** The provisional id of the first item of Prism's example review task. */
const ASSET = 'task_01K8Z3TM8K0A5Q7R9S1U3W5Y7Z-0';

// In order: the group must be created (and the assets added) before they can be read.
const OPERATIONS: Array<[string, string, Record<string, unknown>]> = [
  [
    'createGroup',
    `mutation { createGroup(input: { name: "mascot", description: "d" }) { id } }`,
    {},
  ],
  [
    'addAssets',
    `mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://cdn.example.com/a.jpg", type: IMAGE, name: "a" }, { url: "https://cdn.example.com/b.jpg", type: IMAGE }, { url: "https://cdn.example.com/c.mp4", type: VIDEO }]) { assets { id } failures { code } } }`,
    { g: GROUP },
  ],
  [
    'groups',
    `{ groups(filter: { nameContains: "m", kind: VIRTUAL }) { total items { id kind assets { total } } } }`,
    {},
  ],
  ['group', `query($id: ID!) { group(id: $id) { id name kind } }`, { id: GROUP }],
  ['asset', `query($id: ID!) { asset(id: $id) { id status uri group { id } } }`, { id: ASSET }],
  [
    'assets',
    `{ assets(filter: { statuses: [PROCESSING, ACTIVE, FAILED] }, pageSize: 100) { total items { id status } } }`,
    {},
  ],
  [
    'updateGroup',
    `mutation($id: ID!) { updateGroup(id: $id, input: { name: "n", description: "d" }) { id } }`,
    { id: GROUP },
  ],
  [
    'renameAsset',
    `mutation($id: ID!) { renameAsset(id: $id, name: "front") { id } }`,
    { id: ASSET },
  ],
  ['deleteAsset', `mutation($id: ID!) { deleteAsset(id: $id) }`, { id: ASSET }],
  ['deleteGroup', `mutation($id: ID!) { deleteGroup(id: $id) }`, { id: GROUP }],
  [
    'startRealPersonVerification',
    `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token h5Link h5LinkExpiresAt expiresAt } }`,
    {},
  ],
];

describe('the apimart gateway against a Prism mock of the contract', () => {
  it.each(OPERATIONS)('%s runs without errors', async (field, query, variables) => {
    const answer = await gql(query, variables);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.[field]).toBeTruthy();
  });

  it("sends step 2 validly, and refuses Prism's answer (step 1's bare task) as a bad response", async () => {
    const answer = await gql(
      `mutation { completeRealPersonVerification(token: "20260521162915BF9DC22A7A65ADF905D8") { id kind } }`,
    );
    expect(answer.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it('sent no request that Prism flagged', async () => {
    // Prism logs a request's violations after answering it: one more request flushes the log.
    await gql(`{ groups { total } }`);
    expect(prism.violations).toEqual([]);
  });
});
