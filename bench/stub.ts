/**
 * The upstream stub the benchmarks share: fixed answers to the contract's list and get routes
 * (`mocks/openapi.yaml`), and a count of calls by action. It imports only Node built-ins, so the
 * peer benchmark (`bench/peers/`, its own package) can run it as a process too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stub holds. */
export interface StubOptions {
  /**
   * Groups the stub lists, newest first.
   * @default 50
   */
  groups?: number;
  /**
   * Assets in each group.
   * @default 2
   */
  assetsPerGroup?: number;
}

/** A group the stub holds. */
export interface StubGroup {
  id: string;
  assetIds: string[];
}

/** A running stub. */
export interface Stub {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the upstream's `UPSTREAM_URL`). */
  url: string;
  /**
   * Calls by action: `ListAssetGroups`, `ListAssets`, `GetAsset`, or `other GET /path` and
   * `unauthenticated GET /path` (answered 404 and 401).
   */
  calls: Map<string, number>;
  /** The groups in list order, each with the ids of its assets: what a correct answer holds. */
  groups: StubGroup[];
  stop(): Promise<void>;
}

/** The fields of a list request the stub reads. */
interface ListBody {
  PageNumber?: number;
  PageSize?: number;
  Filter?: { GroupIds?: string[] };
}

const meta = (action: string) => ({
  RequestId: '20260601191715C9DAA092032F19CEC367',
  Action: action,
  Version: '2024-01-01',
  Service: 'ark',
  Region: 'cn-beijing',
});

/** One page of `items`, in the envelope both list actions answer with. */
function page(action: string, items: unknown[], body: ListBody) {
  const size = body.PageSize ?? 10;
  const number = body.PageNumber ?? 1;
  return {
    ResponseMetadata: meta(action),
    Result: {
      Total: items.length,
      PageNumber: number,
      PageSize: size,
      Items: items.slice((number - 1) * size, number * size),
    },
  };
}

/** Starts the stub on 127.0.0.1, on a free port. */
export function startStub(options: StubOptions = {}): Promise<Stub> {
  const { groups: groupCount = 50, assetsPerGroup = 2 } = options;
  const groups = Array.from({ length: groupCount }, (_, i) => ({
    Id: `group-20260601191715-g${String(i).padStart(4, '0')}`,
    Name: `group ${i}`,
    Description: '',
    GroupType: 'AIGC',
    CreateTime: '2026-06-01T11:17:15Z',
    UpdateTime: '2026-06-01T11:17:15Z',
  }));
  const assets = groups.flatMap((group, g) =>
    Array.from({ length: assetsPerGroup }, (_, a) => ({
      Id: `asset-20260602153901-a${g}x${a}`,
      Name: `asset ${a}`,
      AssetType: 'Image',
      GroupId: group.Id,
      Status: 'Active',
      CreateTime: '2026-06-02T07:39:01Z',
      UpdateTime: '2026-06-02T07:39:04Z',
    })),
  );
  const assetsById = new Map(assets.map((asset) => [asset.Id, asset]));
  const calls = new Map<string, number>();
  const count = (action: string) => calls.set(action, (calls.get(action) ?? 0) + 1);

  const answer = (req: IncomingMessage, body: ListBody): [number, unknown] => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    // Every system passes the caller's key through; a call without one is a bug to see.
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      count(`unauthenticated ${req.method} ${path}`);
      const error = { Code: 'AuthenticationError', Message: 'No API key.' };
      return [401, { ResponseMetadata: { ...meta('Unknown'), Error: error } }];
    }
    if (req.method === 'POST' && path === '/v1/private-avatar/groups/list') {
      count('ListAssetGroups');
      // As upstream: `Filter.GroupIds` narrows the list (the ledger's reads by id use it).
      const ids = new Set<string>(body.Filter?.GroupIds ?? []);
      const matching = groups.filter((group) => ids.size === 0 || ids.has(group.Id));
      return [200, page('ListAssetGroups', matching, body)];
    }
    if (req.method === 'POST' && path === '/v1/private-avatar/assets/list') {
      count('ListAssets');
      const ids = new Set<string>(body.Filter?.GroupIds ?? []);
      const matching = assets.filter((asset) => ids.size === 0 || ids.has(asset.GroupId));
      return [200, page('ListAssets', matching, body)];
    }
    const assetId = /^\/v1\/private-avatar\/assets\/([^/]+)$/.exec(path)?.[1];
    if (req.method === 'GET' && assetId !== undefined) {
      count('GetAsset');
      const asset = assetsById.get(decodeURIComponent(assetId));
      if (asset) return [200, { ResponseMetadata: meta('GetAsset'), Result: asset }];
      const error = { Code: 'NotFound.Asset', Message: 'The asset does not exist.' };
      return [404, { ResponseMetadata: { ...meta('GetAsset'), Error: error } }];
    }
    count(`other ${req.method} ${path}`);
    return [404, {}];
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body: ListBody = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      const [status, json] = answer(req, body);
      const text = JSON.stringify(json);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls,
        groups: groups.map((group) => ({
          id: group.Id,
          assetIds: assets.filter((asset) => asset.GroupId === group.Id).map((asset) => asset.Id),
        })),
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}
