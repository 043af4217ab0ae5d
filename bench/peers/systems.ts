/**
 * The systems compared, each with the same three workloads against the same stub. A workload
 * answers in one normalised shape for every system, so one comparison checks them all:
 * W1 the ids of the first 10 groups; W2 those groups with their asset ids; W3 an asset's id and
 * status. The contract has no link from a group to its assets: for Hive Gateway the composition
 * adds one (`compose-hive`), which calls ListAssets once per group; openapi-to-graphql cannot
 * add one, so its client lists the groups, then the assets of those groups (two requests).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { StubGroup } from '../stub.js';
import { graphqlClient, type GraphQLClient } from './graphql-client.js';
import { CORES, freePort, startNode, stop, waitForGraphQL } from './processes.js';

export type WorkloadName = 'W1' | 'W2' | 'W3';

/** What each workload asks for. */
export const WORKLOADS: Record<WorkloadName, string> = {
  W1: '10 groups (one list call)',
  W2: '10 groups with their assets',
  W3: 'one asset',
};

/** The upstream stub every system calls. */
export interface Upstream {
  url: string;
  groups: StubGroup[];
}

/** One request of a workload, with the caller's `Authorization`; resolves the normalised answer. */
export type Send = (authorization: string) => Promise<unknown>;

/** A system ready to measure. */
export interface Running {
  /** The server's process, for its RSS; none for direct undici. */
  pid?: number;
  send: Record<WorkloadName, Send>;
  stop(): Promise<void>;
}

export interface System {
  name: string;
  /** How a workload differs for this system, printed under its table. */
  notes?: Partial<Record<WorkloadName, string>>;
  start(upstream: Upstream, connections: number): Promise<Running>;
}

const PAGE = 10;
const MODEL = 'doubao-seedance-2-0-260128';
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const contract = path.join(root, 'mocks/openapi.yaml');
const servers = fileURLToPath(new URL('./servers/', import.meta.url));

/** The answers a correct system gives, from the stub's data. */
export function expectedAnswers(upstream: Upstream): Record<WorkloadName, unknown> {
  const page = upstream.groups.slice(0, PAGE);
  return {
    W1: page.map((group) => group.id),
    W2: page.map((group) => [group.id, group.assetIds]),
    W3: [assetOf(upstream), 'ACTIVE'],
  };
}

const assetOf = (upstream: Upstream) => upstream.groups[0]!.assetIds[0]!;

/** W2's shape from a page of group ids and the assets listed for them. */
function byGroup(groupIds: string[], assets: Array<{ id: string; groupId: string }>) {
  return groupIds.map((id) => [
    id,
    assets.filter((asset) => asset.groupId === id).map((asset) => asset.id),
  ]);
}

/** A server process on the server core, and a client for its /graphql once it answers. */
async function startServer(
  script: string,
  env: Record<string, string>,
  connections: number,
): Promise<{ child: ChildProcess; client: GraphQLClient }> {
  const port = await freePort();
  const child = startNode(script, CORES.server, { ...env, PORT: String(port) }, { cwd: root });
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    await waitForGraphQL(url, child);
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { child, client: graphqlClient(url, connections) };
}

/** The floor: the load generator calls the stub itself, as a client without a gateway would. */
const direct: System = {
  name: 'direct undici',
  async start(upstream, connections) {
    const pool = new Pool(upstream.url, { connections });
    type Items<T> = { Result: { Items: T[] } };
    const call = async <T>(method: string, route: string, authorization: string, body?: object) => {
      const response = await pool.request({
        method,
        path: route,
        headers: { 'content-type': 'application/json', authorization },
        body: body && JSON.stringify({ model: MODEL, ...body }),
      });
      const json = (await response.body.json()) as T;
      if (response.statusCode !== 200) throw new Error(`stub: ${response.statusCode}`);
      return json;
    };
    const listGroups = async (authorization: string) => {
      const page = await call<Items<{ Id: string }>>(
        'POST',
        '/v1/private-avatar/groups/list',
        authorization,
        { PageNumber: 1, PageSize: PAGE },
      );
      return page.Result.Items.map((group) => group.Id);
    };
    return {
      send: {
        W1: listGroups,
        async W2(authorization) {
          const ids = await listGroups(authorization);
          const assets = await call<Items<{ Id: string; GroupId: string }>>(
            'POST',
            '/v1/private-avatar/assets/list',
            authorization,
            { Filter: { GroupIds: ids }, PageNumber: 1, PageSize: 100 },
          );
          return byGroup(
            ids,
            assets.Result.Items.map((asset) => ({ id: asset.Id, groupId: asset.GroupId })),
          );
        },
        async W3(authorization) {
          const asset = await call<{ Result: { Id: string; Status: string } }>(
            'GET',
            `/v1/private-avatar/assets/${assetOf(upstream)}?model=${MODEL}`,
            authorization,
          );
          return [asset.Result.Id, asset.Result.Status.toUpperCase()];
        },
      },
      stop: () => pool.close(),
    };
  },
};

/** Ours, from its build, in pass-through mode, with the per-client rate limit off. */
const avatarGateway: System = {
  name: 'avatar-gateway',
  async start(upstream, connections) {
    const { child, client } = await startServer(
      path.join(root, 'dist/index.js'),
      {
        HOST: '127.0.0.1',
        UPSTREAM_URL: upstream.url,
        NODE_ENV: 'production',
        LOG_LEVEL: 'silent',
        // One load generator is one client: its limit would cap the run by design.
        RATE_LIMIT_PER_MINUTE: '0',
      },
      connections,
    );
    type Group = { id: string; assets: { items: Array<{ id: string }> } };
    return {
      pid: child.pid,
      send: {
        async W1(authorization) {
          const data = await client.post<{ groups: { items: Group[] } }>(
            `{ groups(page: 1, pageSize: ${PAGE}) { total items { id name kind createdAt } } }`,
            {},
            authorization,
          );
          return data.groups.items.map((group) => group.id);
        },
        async W2(authorization) {
          const data = await client.post<{ groups: { items: Group[] } }>(
            `{ groups(page: 1, pageSize: ${PAGE}) { items { id name assets(pageSize: 10) { items { id status } } } } }`,
            {},
            authorization,
          );
          return data.groups.items.map((group) => [
            group.id,
            group.assets.items.map((asset) => asset.id),
          ]);
        },
        async W3(authorization) {
          const data = await client.post<{ asset: { id: string; status: string } }>(
            'query ($id: ID!) { asset(id: $id) { id name status groupId } }',
            { id: assetOf(upstream) },
            authorization,
          );
          return [data.asset.id, data.asset.status];
        },
      },
      stop: async () => (await client.close(), await stop(child)),
    };
  },
};

/** Hive Gateway on a supergraph composed from the contract by omnigraph's OpenAPI source. */
const hive: System = {
  name: 'Hive Gateway + omnigraph',
  notes: {
    W2: 'the assets field is added at composition with @resolveTo: one ListAssets per group',
  },
  async start(upstream, connections) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'peers-hive-'));
    const supergraph = path.join(dir, 'supergraph.graphql');
    const compose = startNode(
      path.join(servers, 'compose-hive.js'),
      CORES.load,
      { UPSTREAM_URL: upstream.url, CONTRACT: contract, SUPERGRAPH: supergraph },
      { cwd: root },
    );
    const code = await new Promise((resolve) => compose.once('exit', resolve));
    if (code !== 0) throw new Error(`compose-hive exited with ${code}`);
    const { child, client } = await startServer(
      path.join(servers, 'hive.js'),
      { SUPERGRAPH: supergraph },
      connections,
    );
    const model = MODEL.replaceAll('-', '_');
    type Page<T> = { Result: { Items: T[] } };
    const listGroups = async (authorization: string) => {
      const data = await client.post<{ listAssetGroups: Page<{ Id: string }> }>(
        `{ listAssetGroups(input: { model: ${model}, PageNumber: 1, PageSize: ${PAGE} }) {
            ... on ListAssetGroupsResponse { Result { Total Items { Id Name GroupType CreateTime } } } } }`,
        {},
        authorization,
      );
      return data.listAssetGroups.Result.Items.map((group) => group.Id);
    };
    return {
      pid: child.pid,
      send: {
        W1: listGroups,
        async W2(authorization) {
          type Group = { Id: string; assets: Page<{ Id: string }> };
          const data = await client.post<{ listAssetGroups: Page<Group> }>(
            `{ listAssetGroups(input: { model: ${model}, PageNumber: 1, PageSize: ${PAGE} }) {
                ... on ListAssetGroupsResponse { Result { Items { Id Name
                  assets { ... on ListAssetsResponse { Result { Items { Id Status } } } } } } } } }`,
            {},
            authorization,
          );
          return data.listAssetGroups.Result.Items.map((group) => [
            group.Id,
            group.assets.Result.Items.map((asset) => asset.Id),
          ]);
        },
        async W3(authorization) {
          const data = await client.post<{ getAsset: { Result: { Id: string; Status: string } } }>(
            `query ($id: NonEmptyString!) { getAsset(id: $id, model: ${model}) {
                ... on GetAssetResponse { Result { Id Name Status GroupId } } } }`,
            { id: assetOf(upstream) },
            authorization,
          );
          return [data.getAsset.Result.Id, data.getAsset.Result.Status.toUpperCase()];
        },
      },
      stop: async () => {
        await client.close();
        await stop(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/** openapi-to-graphql's schema for the contract, served by graphql-yoga. */
const openapiToGraphql: System = {
  name: 'openapi-to-graphql + yoga',
  notes: {
    W2: 'two GraphQL requests (groups, then their assets): the schema has no link to follow',
  },
  async start(upstream, connections) {
    const { child, client } = await startServer(
      path.join(servers, 'openapi-to-graphql.js'),
      { UPSTREAM_URL: upstream.url, CONTRACT: contract },
      connections,
    );
    const model = MODEL.replaceAll('-', '_').toUpperCase();
    type Page<T> = { result: { items: T[] } };
    const listGroups = async (authorization: string) => {
      const data = await client.post<{ listAssetGroups: Page<{ id: string }> }>(
        `{ listAssetGroups(listAssetGroupsRequestInput: { model: ${model}, pageNumber: 1, pageSize: ${PAGE} }) {
            result { total items { id name groupType createTime } } } }`,
        {},
        authorization,
      );
      return data.listAssetGroups.result.items.map((group) => group.id);
    };
    return {
      pid: child.pid,
      send: {
        W1: listGroups,
        async W2(authorization) {
          const ids = await listGroups(authorization);
          const data = await client.post<{ listAssets: Page<{ id: string; groupId: string }> }>(
            `query ($ids: [String]) {
              listAssets(listAssetsRequestInput: { model: ${model}, filter: { groupIds: $ids }, pageNumber: 1, pageSize: 100 }) {
                result { items { id status groupId } } } }`,
            { ids },
            authorization,
          );
          return byGroup(ids, data.listAssets.result.items);
        },
        async W3(authorization) {
          const data = await client.post<{ getAsset: { result: { id: string; status: string } } }>(
            `query ($id: String!) { getAsset(id: $id, model: ${model}) { result { id name status groupId } } }`,
            { id: assetOf(upstream) },
            authorization,
          );
          return [data.getAsset.result.id, data.getAsset.result.status.toUpperCase()];
        },
      },
      stop: async () => (await client.close(), await stop(child)),
    };
  },
};

/** Every system, ours second, in the order the tables list them. */
export const SYSTEMS: System[] = [direct, avatarGateway, hive, openapiToGraphql];
