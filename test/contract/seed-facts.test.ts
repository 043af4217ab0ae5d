/**
 * The facts the seed documents (`../shared/seeds/`, summarised in `../shared/upstream-api.md`) state, checked
 * against mocks/openapi.yaml: required fields, defaults, enums, response fields, the fifteen
 * routes and the named examples the gateway and its tests rely on. The contract may add to the
 * seeds (marked **Inferred**), never contradict them.
 */
import { describe, expect, it } from 'vitest';
import { loadContract, type ContractOperation, type Schema } from '../helpers/contract.js';

const contract = loadContract();
const MODELS = ['doubao-seedance-2-0-260128', 'doubao-seedance-2-0-fast-260128'];
const ARK_PATH = /^\/v1\/(private|real)-avatar\//;

function operation(key: string): ContractOperation {
  const [method, route] = key.split(' ');
  const found = contract.operations.find(
    (op) => op.method === method!.toLowerCase() && op.path === route,
  );
  if (!found) throw new Error(`the contract has no ${key}`);
  return found;
}

/** `allOf` parts merged into one schema (enough to read properties, required and keywords). */
function merged(schema: Schema): Schema {
  if (!schema.allOf) return schema;
  const parts = schema.allOf.map(merged);
  return parts.reduce<Schema>(
    (acc, part) => ({
      ...part,
      ...acc,
      required: [...(acc.required ?? []), ...(part.required ?? [])],
      properties: { ...part.properties, ...acc.properties },
    }),
    { ...schema, allOf: undefined },
  );
}

/** Walks `Result.Items[].GroupType`: `.` steps into properties, `[]` into array items. */
function schemaAt(root: Schema, path: string): Schema {
  let node = merged(root);
  for (const segment of path ? path.split('.') : []) {
    const name = segment.replace(/\[\]$/, '');
    const next = node.properties?.[name];
    if (!next) throw new Error(`no property ${name} on the way to ${path}`);
    node = merged(next);
    if (segment.endsWith('[]')) {
      if (node.type !== 'array' || !node.items) throw new Error(`${name} is not an array`);
      node = merged(node.items);
    }
  }
  return node;
}

function requestSchema(op: ContractOperation): Schema {
  if (!op.requestBody) throw new Error(`${op.operationId} has no request body`);
  return op.requestBody.schema;
}

function responseSchema(op: ContractOperation, status = '200'): Schema {
  const schema = op.responses.find((response) => response.status === status)?.schema;
  if (!schema) throw new Error(`${op.operationId} documents no ${status} schema`);
  return schema;
}

/**
 * What a fact expects of a schema: `required` is compared as a set (exactly what the seed
 * requires, nothing more); `has` properties must exist; `optional` ones must exist and not be
 * required; `accepts` is the seed's own schema, which must be the schema itself or one of its
 * `oneOf`/`anyOf` branches (where the contract tolerates variants deployments were seen to
 * send, the seed's form stays one of them, exactly); any other keyword must equal (arrays such
 * as `enum` as sets).
 */
interface Expectation {
  required?: string[];
  has?: string[];
  optional?: string[];
  accepts?: Expectation;
  [keyword: string]: unknown;
}

const sorted = (values: unknown[]) => [...values].map(String).sort();

function expectSchema(schema: Schema, expectation: Expectation): void {
  for (const [keyword, expected] of Object.entries(expectation)) {
    if (keyword === 'has') {
      for (const name of expected as string[]) {
        expect(Object.keys(schema.properties ?? {}), `property ${name}`).toContain(name);
      }
    } else if (keyword === 'accepts') {
      const branches = [schema, ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].map(merged);
      const matches = (branch: Schema) =>
        Object.entries(expected as Expectation).every(([k, v]) => branch[k] === v);
      expect(branches.some(matches), `one form is ${JSON.stringify(expected)}`).toBe(true);
    } else if (keyword === 'optional') {
      for (const name of expected as string[]) {
        expect(Object.keys(schema.properties ?? {}), `property ${name}`).toContain(name);
        expect(schema.required ?? [], `${name} is optional`).not.toContain(name);
      }
    } else if (Array.isArray(expected)) {
      const actual = schema[keyword];
      expect(Array.isArray(actual), `${keyword} is a list`).toBe(true);
      expect(sorted(actual as unknown[]), keyword).toEqual(sorted(expected));
    } else {
      expect(schema[keyword], keyword).toEqual(expected);
    }
  }
}

const G1 = 'POST /v1/private-avatar/groups';
const A6 = 'POST /v1/private-avatar/assets';
const T12 = 'POST /v1/real-avatar/groups/from-token';
const M_REAL = 'POST /v1/seedance2/real-avatar';
const TIME = { accepts: { type: 'string', format: 'date-time' } };

/**
 * Seed → route → request or 200 response → path in the schema (`''` is the body itself) → what
 * the schema there must say.
 */
const schemaFacts: Record<
  string,
  Record<string, Record<'request' | 'response', Record<string, Expectation>>>
> = {
  '001 ①': {
    [G1]: {
      request: {
        '': { required: ['model', 'Name'], optional: ['Description', 'GroupType'] },
        Name: { type: 'string' },
        Description: { type: 'string' },
        GroupType: { type: 'string', default: 'AIGC' },
      },
      response: {
        'Result.Id': { type: 'string' },
        ResponseMetadata: {
          has: ['RequestId', 'Action', 'Version', 'Service', 'Region', 'Error'],
        },
        'ResponseMetadata.Error': { has: ['Code', 'Message'] },
        'ResponseMetadata.Error.Code': { type: 'string' },
        'ResponseMetadata.Error.Message': { type: 'string' },
      },
    },
  },
  '003 ②': {
    'POST /v1/private-avatar/groups/list': {
      request: {
        '': { required: ['model'], optional: ['Filter', 'PageNumber', 'PageSize'] },
        Filter: { optional: ['Name', 'GroupIds', 'GroupType'] },
        'Filter.Name': { type: 'string' },
        'Filter.GroupIds': { type: 'array' },
        'Filter.GroupIds[]': { type: 'string' },
        'Filter.GroupType': { type: 'string', enum: ['AIGC', 'LivenessFace'] },
        PageNumber: { type: 'integer', default: 1 },
        PageSize: { type: 'integer', default: 10 },
      },
      response: {
        Result: { has: ['Total', 'PageNumber', 'PageSize', 'Items'] },
        'Result.Total': { type: 'integer' },
        'Result.PageNumber': { type: 'integer' },
        'Result.PageSize': { type: 'integer' },
        'Result.Items': { type: 'array' },
        'Result.Items[]': {
          has: ['Id', 'Name', 'Description', 'GroupType', 'CreateTime', 'UpdateTime'],
        },
        'Result.Items[].Id': { type: 'string' },
        'Result.Items[].Name': { type: 'string' },
        'Result.Items[].Description': { type: 'string' },
        'Result.Items[].GroupType': { type: 'string', enum: ['AIGC', 'LivenessFace'] },
        'Result.Items[].CreateTime': TIME,
        'Result.Items[].UpdateTime': TIME,
      },
    },
  },
  '002 ⑥': {
    [A6]: {
      request: {
        '': { required: ['model', 'GroupId', 'URL', 'AssetType'], optional: ['Name'] },
        GroupId: { type: 'string' },
        URL: { type: 'string' },
        AssetType: { type: 'string', enum: ['Image', 'Video', 'Audio'] },
        Name: { type: 'string' },
      },
      response: {
        'Result.Id': { type: 'string' },
      },
    },
  },
  '000 ⑫': {
    [T12]: {
      request: {
        '': { required: ['model', 'BytedToken'] },
        BytedToken: { type: 'string' },
      },
      response: {
        'Result.GroupId': { type: 'string' },
      },
    },
  },
  '004 apimart': {
    [M_REAL]: {
      request: {},
      response: {
        code: { type: 'integer' },
        data: { has: ['id', 'status'] },
      },
    },
    'GET /v1/tasks/{id}': {
      request: {},
      response: {
        'data.status': {
          enum: ['pending', 'processing', 'completed', 'failed', 'cancelled'],
        },
        'data.result': {
          has: [
            'byted_token',
            'h5_link',
            'raw_response',
            'assets',
            'usable_assets',
            'failed_assets',
          ],
        },
        'data.result.assets[]': { has: ['asset_id', 'asset_url', 'status'] },
        'data.result.usable_assets[].status': { enum: ['Active', 'Failed'] },
        'data.result.failed_assets[].asset_url': { type: 'string' },
        'data.error': { has: ['code', 'message'] },
        'data.error.code': { type: 'string' },
      },
    },
  },
};

const schemaFactRows = Object.entries(schemaFacts).flatMap(([seed, routes]) =>
  Object.entries(routes).flatMap(([route, sides]) =>
    (['request', 'response'] as const).flatMap((side) =>
      Object.entries(sides[side]).map(([path, expectation]) => ({
        seed,
        route,
        side,
        path,
        expectation,
      })),
    ),
  ),
);

/** The request bodies of the three apimart steps, told apart by what each requires. */
const apimartSteps: { fact: string; required: string[]; expect: Record<string, Expectation> }[] = [
  {
    fact: 'step 1 requires callback_url; project_name defaults to default',
    required: ['callback_url'],
    expect: { project_name: { type: 'string', default: 'default' } },
  },
  {
    fact: 'step 2 requires byted_token; project_name defaults to default',
    required: ['byted_token'],
    expect: { project_name: { type: 'string', default: 'default' } },
  },
  {
    fact: 'step 3 requires group_id and assets[]; asset_type is Video (default) or Image',
    required: ['group_id', 'assets'],
    expect: {
      project_name: { type: 'string', default: 'default' },
      asset_type: { type: 'string', enum: ['Video', 'Image'], default: 'Video' },
      assets: { type: 'array' },
    },
  },
];

const ARK_ROUTES = [
  'POST /v1/private-avatar/groups',
  'POST /v1/private-avatar/groups/list',
  'GET /v1/private-avatar/groups/{id}',
  'PATCH /v1/private-avatar/groups/{id}',
  'DELETE /v1/private-avatar/groups/{id}',
  'POST /v1/private-avatar/assets',
  'POST /v1/private-avatar/assets/list',
  'GET /v1/private-avatar/assets/{id}',
  'PATCH /v1/private-avatar/assets/{id}',
  'DELETE /v1/private-avatar/assets/{id}',
  'POST /v1/real-avatar/auth/session',
  'POST /v1/real-avatar/groups/from-token',
];
const APIMART_ROUTES = [
  'POST /v1/seedance2/real-avatar',
  'POST /v1/seedance2/private-avatar',
  'GET /v1/tasks/{id}',
];

interface ExampleFact {
  fact: string;
  op: string;
  status: string;
  examples: string[];
  /** `[example, path into its value, expected]`. */
  values?: [string, string, unknown][];
}

const exampleFacts: ExampleFact[] = [
  {
    fact: '⑦ lists processing, active and failed assets; failed is FaceMismatch',
    op: 'POST /v1/private-avatar/assets/list',
    status: '200',
    examples: ['processing', 'active', 'failed'],
    values: [
      ['processing', 'Result.Items.0.Status', 'Processing'],
      ['active', 'Result.Items.0.Status', 'Active'],
      ['failed', 'Result.Items.0.Status', 'Failed'],
      ['failed', 'Result.Items.0.Error.Code', 'FaceMismatch'],
    ],
  },
  {
    fact: '⑧ polls processing, active and failed; failed is FaceMismatch',
    op: 'GET /v1/private-avatar/assets/{id}',
    status: '200',
    examples: ['processing', 'active', 'failed'],
    values: [
      ['processing', 'Result.Status', 'Processing'],
      ['active', 'Result.Status', 'Active'],
      ['failed', 'Result.Status', 'Failed'],
      ['failed', 'Result.Error.Code', 'FaceMismatch'],
    ],
  },
  {
    fact: '⑫ answers pending (empty GroupId) and completed',
    op: T12,
    status: '200',
    examples: ['pending', 'completed'],
    values: [['pending', 'Result.GroupId', '']],
  },
  {
    fact: '⑥ refuses an unreachable URL with InvalidParameter.DownloadFailed',
    op: A6,
    status: '400',
    examples: ['InvalidParameter.DownloadFailed'],
    values: [
      [
        'InvalidParameter.DownloadFailed',
        'ResponseMetadata.Error.Code',
        'InvalidParameter.DownloadFailed',
      ],
    ],
  },
  ...['GET', 'PATCH', 'DELETE'].map((method) => ({
    fact: `${method} asset answers 404 NotFound.asset_id`,
    op: `${method} /v1/private-avatar/assets/{id}`,
    status: '404',
    examples: ['NotFound.asset_id'],
    values: [['NotFound.asset_id', 'ResponseMetadata.Error.Code', 'NotFound.asset_id']] as [
      string,
      string,
      unknown,
    ][],
  })),
  ...ARK_ROUTES.flatMap((op) => [
    {
      fact: `${op} answers 403 AccessDenied and SubscriptionRequired`,
      op,
      status: '403',
      examples: ['AccessDenied', 'SubscriptionRequired'],
    },
    { fact: `${op} answers 429 Throttling`, op, status: '429', examples: ['Throttling'] },
  ]),
];

function valueAt(value: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], value);
}

describe('seed facts in the contract', () => {
  it.each(
    schemaFactRows.map(
      (row) => [row.seed, row.route, row.side, row.path || '(body)', row] as const,
    ),
  )('%s %s %s %s', (_seed, _route, _side, _path, row) => {
    const op = operation(row.route);
    const root = row.side === 'request' ? requestSchema(op) : responseSchema(op);
    expectSchema(schemaAt(root, row.path), row.expectation);
  });

  it('checks every seed', () => {
    expect(new Set(schemaFactRows.map((row) => row.seed)).size).toBe(5);
    expect(schemaFactRows.length).toBeGreaterThanOrEqual(40);
  });

  it.each(apimartSteps.map((step) => [step.fact, step] as const))(
    '004 apimart: %s',
    (_fact, step) => {
      const body = requestSchema(operation(M_REAL));
      const branches = (body.oneOf ?? body.anyOf ?? [body]).map(merged);
      const branch = branches.find(
        (b) => sorted(b.required ?? []).join() === sorted(step.required).join(),
      );
      expect(branch, `a request shape requiring exactly ${step.required.join(', ')}`).toBeDefined();
      for (const [name, expectation] of Object.entries(step.expect)) {
        expectSchema(schemaAt(branch!, name), expectation);
      }
    },
  );

  it.each([...ARK_ROUTES, ...APIMART_ROUTES])('routes %s', (key) => {
    expect(() => operation(key)).not.toThrow();
  });

  it('has exactly the twelve Ark-style routes of the table', () => {
    const ark = contract.operations
      .filter((op) => ARK_PATH.test(op.path))
      .map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(sorted(ark)).toEqual(sorted(ARK_ROUTES));
  });

  const arkOperations = contract.operations.filter((op) => ARK_PATH.test(op.path));
  it.each(arkOperations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const))(
    '%s takes model, one of the two fixed values (body for POST/PATCH, query for GET/DELETE; optional only on GET)',
    (_key, op) => {
      let model: Schema;
      if (op.method === 'get' || op.method === 'delete') {
        const parameter = op.parameters.find((p) => p.in === 'query' && p.name === 'model');
        expect(parameter, 'a model query parameter').toBeDefined();
        // The DELETE pages require it; live GETs succeeded without it (upstream-evidence.md §1).
        expect(parameter!.required).toBe(op.method === 'delete');
        model = parameter!.schema;
      } else {
        const body = requestSchema(op);
        expect(body.required ?? []).toContain('model');
        model = schemaAt(body, 'model');
      }
      expectSchema(model, { type: 'string', enum: MODELS });
    },
  );

  it('covers every Ark-style operation with the model check', () => {
    expect(arkOperations.length).toBeGreaterThanOrEqual(ARK_ROUTES.length);
  });

  it.each(exampleFacts.map((f) => [f.fact, f] as const))('examples: %s', (_fact, f) => {
    const response = operation(f.op).responses.find((r) => r.status === f.status);
    expect(response, `a documented ${f.status}`).toBeDefined();
    expect(Object.keys(response!.examples)).toEqual(expect.arrayContaining(f.examples));
    for (const [name, path, expected] of f.values ?? []) {
      expect(valueAt(response!.examples[name], path), `${name}: ${path}`).toEqual(expected);
    }
  });
});
