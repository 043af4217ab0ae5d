/**
 * The variants the contract tolerates, as real deployments were seen to send them
 * (mocks/CHANGELOG.md): a scripted upstream answers each one, behind Prism's validating proxy.
 * With `--errors`, Prism replaces any request or answer that breaks the contract with its own
 * 422 (request) or 500 (answer) listing the violations, so a variant that arrives unchanged
 * passed validation both ways.
 * Controls that do break the contract must come back as that 500, so the check means something.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrism, type PrismServer } from '../helpers/prism.js';

const MODEL = 'doubao-seedance-2-0-260128';
const GROUP = 'group-20260601191715-9q47m';
const ASSET = 'asset-20260602153901-x7k2m';
const META = {
  RequestId: '20261201050000A1B2C3D4E5F6A7B8C9',
  Version: '2024-01-01',
  Service: 'ark',
};

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** What the scripted upstream answers next; every test sets it. */
let next: Scripted;
let upstream: Server;
let prism: PrismServer;

const unixGroup = {
  Id: GROUP,
  Name: 'my_virtual_group',
  Description: '',
  GroupType: 'AIGC',
  ProjectName: 'default',
  CreateTime: 1780312635,
  UpdateTime: 1780312635,
};
const unixAsset = {
  Id: ASSET,
  Name: 'front-view',
  URL: 'https://ark-media-asset.tos-cn-beijing.volces.com/a.jpg?X-Tos-Expires=43200',
  AssetType: 'Image',
  GroupId: GROUP,
  Status: 'Active',
  ProjectName: 'default',
  CreateTime: 1780385941,
  UpdateTime: 1780385944,
};

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  prism = await startPrism({ mode: 'proxy', upstream: `http://127.0.0.1:${port}`, errors: true });
});

afterAll(async () => {
  await prism?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(prism.url + path, {
    method,
    headers: {
      authorization: 'Bearer variant-key',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as unknown,
  };
}

/** The violations Prism reports in its own 422 or 500 (`--errors`), as `location: message`. */
function violationsOf(answer: { body: unknown }): string[] {
  const problem = answer.body as { validation?: Array<{ location: string[]; message: string }> };
  return (problem.validation ?? []).map((v) => `${v.location.join('.')}: ${v.message}`);
}

describe('each tolerated variant passes Prism’s validating proxy', () => {
  const cases: Array<[string, string, string, unknown, Scripted]> = [
    [
      '② with TotalCount instead of Total',
      'POST',
      '/v1/private-avatar/groups/list',
      { model: MODEL },
      {
        status: 200,
        body: {
          ResponseMetadata: META,
          Result: { TotalCount: 1, PageNumber: 1, PageSize: 10, Items: [unixGroup] },
        },
      },
    ],
    [
      '② with Items only and Unix-second times',
      'POST',
      '/v1/private-avatar/groups/list',
      { model: MODEL },
      { status: 200, body: { ResponseMetadata: META, Result: { Items: [unixGroup] } } },
    ],
    [
      '⑦ with Items only and Unix-second times',
      'POST',
      '/v1/private-avatar/assets/list',
      { model: MODEL, Filter: { GroupIds: [GROUP] } },
      { status: 200, body: { ResponseMetadata: META, Result: { Items: [unixAsset] } } },
    ],
    [
      '③ GET without the model query',
      'GET',
      `/v1/private-avatar/groups/${GROUP}`,
      undefined,
      { status: 200, body: { ResponseMetadata: META, Result: unixGroup } },
    ],
    [
      '⑧ GET without the model query',
      'GET',
      `/v1/private-avatar/assets/${ASSET}`,
      undefined,
      { status: 200, body: { ResponseMetadata: META, Result: unixAsset } },
    ],
    [
      'a 429 with a generic body and no Retry-After',
      'GET',
      `/v1/private-avatar/assets/${ASSET}?model=${MODEL}`,
      undefined,
      {
        status: 429,
        body: {
          error: {
            code: 'upstream_asset_error',
            message: 'Volcengine asset operation failed',
            type: 'rate_limit_error',
          },
        },
      },
    ],
    [
      'a 401 with a generic body',
      'POST',
      '/v1/private-avatar/groups',
      { model: MODEL, Name: 'mascot' },
      {
        status: 401,
        body: {
          error: {
            code: 'invalid_api_key',
            message: 'Invalid token.',
            type: 'authentication_error',
          },
        },
      },
    ],
  ];

  it.each(cases)('%s', async (_name, method, path, body, scripted) => {
    next = scripted;
    const answer = await call(method, path, body);

    expect(answer.status).toBe(scripted.status);
    expect(answer.body).toEqual(scripted.body);
    if (scripted.status === 429) expect(answer.retryAfter).toBeNull();
    expect(violationsOf(answer)).toEqual([]);
  });

  it('flags the control: a status outside the enum', async () => {
    next = {
      status: 200,
      body: { ResponseMetadata: META, Result: { ...unixAsset, Status: 'Inactive' } },
    };
    const answer = await call('GET', `/v1/private-avatar/assets/${ASSET}?model=${MODEL}`);

    expect(answer.status).toBe(500);
    expect(violationsOf(answer).join('\n')).toMatch(/^response\.body\.Result\.Status: /m);
  });

  it('flags the control: a DELETE without the model query, which stays required', async () => {
    next = { status: 200, body: { ResponseMetadata: META, Result: {} } };
    const answer = await call('DELETE', `/v1/private-avatar/assets/${ASSET}`);

    expect(answer.status).toBe(422);
    expect(violationsOf(answer).join('\n')).toMatch(/^query: .*model/m);
  });
});
