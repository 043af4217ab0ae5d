/**
 * The contract against a real Prism mock, with every case derived from mocks/openapi.yaml:
 * each documented response and named example is served and valid against its own schema, each
 * request example is accepted without a violation, and requests broken in ways the schemas
 * forbid (missing required fields, values outside an enum, wrong types, no key, no `model`) are
 * refused. An operation added to the contract is covered without new code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  bodyMutations,
  createSchemaValidator,
  headerValue,
  loadContract,
  queryMutations,
  requestExamples,
  requestTarget,
  HTTP_METHODS,
  type ContractOperation,
  type ContractResponse,
  type Schema,
} from '../helpers/contract.js';
import { CONTRACT_PATH, startPrism, type PrismServer } from '../helpers/prism.js';

/** The contract has 15 operations today; fewer means parsing (or the contract) broke. */
const MIN_OPERATIONS = 15;
const AUTHORIZATION = 'Bearer test-key';

const contract = loadContract();
const validator = createSchemaValidator();

interface ResponseCase {
  status: string;
  /** The named example, or `''` when the response has a lone `example` or none. */
  name: string;
  example: unknown;
  response: ContractResponse;
}

function responseCases(operation: ContractOperation): ResponseCase[] {
  return operation.responses.flatMap((response) => {
    const examples = Object.entries(response.examples);
    if (examples.length === 0) {
      return [{ status: response.status, name: '', example: undefined, response }];
    }
    return examples.map(([name, example]) => ({
      status: response.status,
      name,
      example,
      response,
    }));
  });
}

/** The body every case of an operation starts from: its first request example. */
function firstBody(operation: ContractOperation): unknown {
  return requestExamples(operation)[0]![1];
}

function mutationsOf(operation: ContractOperation) {
  if (!operation.requestBody) return [];
  return requestExamples(operation).flatMap(([exampleName, example]) =>
    bodyMutations(operation.requestBody!.schema, example, validator).map((mutation) => ({
      name: `${exampleName}: ${mutation.name}`,
      body: mutation.body,
    })),
  );
}

const plan = contract.operations.map((operation) => ({
  operation,
  responses: responseCases(operation),
  examples: requestExamples(operation),
  bodyMutations: mutationsOf(operation),
  queryMutations: queryMutations(operation),
}));

let prism: PrismServer;

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function send(
  operation: ContractOperation,
  options: {
    body?: unknown;
    query?: Record<string, string | undefined>;
    prefer?: string;
    authorization?: string | null;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? AUTHORIZATION : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (options.prefer) headers.prefer = options.prefer;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(prism.url + requestTarget(operation, options.query), {
    method: operation.method.toUpperCase(),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json') && text !== '';
  return {
    status: response.status,
    headers: response.headers,
    body: isJson ? JSON.parse(text) : text,
  };
}

function expectValid(schema: Schema, value: unknown, what: string): void {
  const validate = validator(schema);
  const valid = validate(value);
  expect(valid, `${what}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

/**
 * Prism's per-request report of what it found wrong: the `sl-violations` header when it answers
 * with a documented response, or `validation` in its own `application/problem+json` 422 when
 * the operation documents no 400/422 (as `GET /v1/tasks/{id}`).
 */
function reportedViolations(answer: Answer): unknown[] {
  const header = answer.headers.get('sl-violations');
  if (header) return JSON.parse(header) as unknown[];
  const problem = answer.body as { validation?: unknown } | undefined;
  if (answer.headers.get('content-type')?.startsWith('application/problem+json')) {
    return Array.isArray(problem?.validation) ? problem.validation : [];
  }
  return [];
}

/**
 * A request that breaks the contract gets the operation's documented 422, else its 400 (with
 * one of that response's examples), else Prism's own 422 problem; always with the violations.
 */
function expectRefused(operation: ContractOperation, answer: Answer): void {
  const documented = ['422', '400']
    .map((status) => operation.responses.find((response) => response.status === status))
    .find((response) => response !== undefined);
  expect(reportedViolations(answer).length, 'violations reported').toBeGreaterThan(0);
  if (!documented) {
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return;
  }
  expect(answer.status).toBe(Number(documented.status));
  expect(Object.values(documented.examples)).toContainEqual(answer.body);
  if (documented.schema) expectValid(documented.schema, answer.body, `${documented.status} body`);
}

const withoutTimestamp = (line: string) => line.replace(/^\[[^\]]*\]\s*\S*\s*/, '');

/**
 * Prism logs a request's violations after answering it, so an empty `violations` right after a
 * response proves nothing. A request with no key is logged with a known last line; once that
 * line is in, everything about earlier requests is too. `sentinelLines` is what it logs alone.
 */
let sentinelLines: string[] = [];
const SENTINEL_LAST_LINE = 'Violation: request Invalid security scheme used';
async function violationsSettled(): Promise<string[]> {
  const before = prism.violations.length;
  const sentinel = contract.operations[0]!;
  await send(sentinel, { body: firstBody(sentinel), authorization: null });
  await until(() =>
    prism.violations.slice(before).some((line) => line.includes(SENTINEL_LAST_LINE)),
  );
  return prism.violations.map(withoutTimestamp);
}

/** Resolves once `ready()` holds; rejects after `timeoutMs`. Usable in hooks, unlike `expect.poll`. */
async function until(ready: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeAll(async () => {
  prism = await startPrism({ mode: 'mock' });
  prism.clearViolations();
  sentinelLines = await violationsSettled();
  expect(sentinelLines.length).toBeGreaterThan(0);
});

afterAll(async () => {
  await prism?.stop();
});

describe('the generated cases', () => {
  it(`cover every operation of the contract (at least ${MIN_OPERATIONS})`, () => {
    // Counted from the raw YAML, independently of the helper that builds the cases.
    const raw = parse(readFileSync(CONTRACT_PATH, 'utf8')) as { paths: Record<string, object> };
    const methods = Object.values(raw.paths).flatMap((item) =>
      Object.keys(item).filter((key) => HTTP_METHODS.includes(key)),
    );
    expect(methods.length).toBeGreaterThanOrEqual(MIN_OPERATIONS);
    expect(plan.map(({ operation }) => operation.operationId)).toHaveLength(methods.length);
  });

  it.each(plan.map((entry) => [entry.operation.operationId, entry] as const))(
    '%s has a positive case per documented status, a request example and refusals',
    (_id, entry) => {
      const { operation } = entry;
      expect(operation.responses.some(({ status }) => status.startsWith('2'))).toBe(true);
      for (const response of operation.responses) {
        expect(entry.responses.filter((c) => c.status === response.status).length).toBeGreaterThan(
          0,
        );
      }
      expect(entry.responses.filter((c) => c.example !== undefined).length).toBeGreaterThan(0);
      expect(entry.examples.length).toBeGreaterThan(0);
      if (operation.requestBody) expect(entry.bodyMutations.length).toBeGreaterThan(1);
      if (operation.parameters.some((p) => p.in === 'query' && p.required)) {
        expect(entry.queryMutations.length).toBeGreaterThan(0);
      }
    },
  );

  it('add up to a few hundred requests', () => {
    const count = (pick: (entry: (typeof plan)[number]) => unknown[]) =>
      plan.reduce((sum, entry) => sum + pick(entry).length, 0);
    expect(count((entry) => entry.responses)).toBeGreaterThanOrEqual(100);
    expect(count((entry) => entry.examples)).toBeGreaterThanOrEqual(MIN_OPERATIONS);
    expect(count((entry) => entry.bodyMutations)).toBeGreaterThanOrEqual(50);
    expect(count((entry) => entry.queryMutations)).toBeGreaterThanOrEqual(4);
  });
});

describe.each(plan.map((entry) => [entry.operation.operationId, entry] as const))(
  '%s',
  (_id, { operation, responses, examples, bodyMutations: broken, queryMutations: badQueries }) => {
    const title = `${operation.method.toUpperCase()} ${operation.path}`;

    it.each(responses.map((c) => [c.status, c.name || '(no example)', c] as const))(
      `${title} answers %s with example %s, valid against its schema`,
      async (status, _name, { name, example, response }) => {
        const prefer = name ? `code=${status}, example=${name}` : `code=${status}`;
        const answer = await send(operation, { body: firstBody(operation), prefer });

        expect(reportedViolations(answer)).toEqual([]);
        expect(answer.status).toBe(Number(status));
        if (example !== undefined) expect(answer.body).toEqual(example);
        if (response.schema) expectValid(response.schema, answer.body, `${status} body`);
        for (const header of response.headers) {
          const value = answer.headers.get(header.name);
          expect(value, `${header.name} header`).not.toBeNull();
          expectValid(header.schema, headerValue(header.schema, value!), `${header.name} header`);
        }
      },
    );

    it.each(examples.map(([name, body]) => [name, body] as const))(
      `${title} accepts request example %s: 200 and no violation`,
      async (_name, body) => {
        prism.clearViolations();
        const answer = await send(operation, { body });

        expect(reportedViolations(answer)).toEqual([]);
        expect(answer.status).toBe(200);
        const ok = operation.responses.find(({ status }) => status === '200')!;
        expect(Object.values(ok.examples)).toContainEqual(answer.body);
        expectValid(ok.schema!, answer.body, '200 body');
        expect(await violationsSettled()).toEqual(sentinelLines);
      },
    );

    if (broken.length > 0) {
      it.each(broken.map((mutation) => [mutation.name, mutation.body] as const))(
        `${title} refuses a body %s`,
        async (_name, body) => {
          // The mutation must break the schema, or this case would test nothing.
          expect(validator(operation.requestBody!.schema)(body)).toBe(false);
          prism.clearViolations();
          const answer = await send(operation, { body });

          expectRefused(operation, answer);
          await expect.poll(() => prism.violations.length).toBeGreaterThan(0);
        },
      );
    }

    if (badQueries.length > 0) {
      it.each(badQueries.map((mutation) => [mutation.name, mutation.query] as const))(
        `${title} refuses a query %s`,
        async (_name, query) => {
          prism.clearViolations();
          const answer = await send(operation, { body: firstBody(operation), query });

          expectRefused(operation, answer);
          await expect.poll(() => prism.violations.length).toBeGreaterThan(0);
        },
      );
    }

    it(`${title} refuses a request without Authorization: 401`, async () => {
      prism.clearViolations();
      const answer = await send(operation, { body: firstBody(operation), authorization: null });

      expect(answer.status).toBe(401);
      const unauthorized = operation.responses.find(({ status }) => status === '401');
      expect(unauthorized, 'a documented 401').toBeDefined();
      expect(Object.values(unauthorized!.examples)).toContainEqual(answer.body);
      expectValid(unauthorized!.schema!, answer.body, '401 body');
      await expect.poll(() => prism.violations.length).toBeGreaterThan(0);
    });
  },
);
