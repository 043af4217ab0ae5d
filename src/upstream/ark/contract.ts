/**
 * The Ark contract (`mocks/openapi.yaml`) at run time: where each operation lives and a
 * compiled ajv validator for its success body. The dialect checks every 2xx body with it, so a
 * body that breaks the contract becomes `UPSTREAM_BAD_RESPONSE` instead of a crash further up.
 *
 * The compile-time half of the same contract is `wire.d.ts` (generated, see `npm run gen:wire`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';
import type { HttpMethod } from '../http/dialect.js';
import type { operations } from './wire.js';

// ajv-formats is CommonJS: the default import is `module.exports`, which is the plugin and
// also carries itself as `.default` (the only spelling NodeNext types accept).
const addFormats = ajvFormats.default;

/**
 * The nearest `mocks/openapi.yaml` above this file: the package root, wherever the build sits
 * (`src/upstream/ark/` under vitest, `dist/upstream/ark/`, or a bench build nested deeper).
 */
export function defaultContractUrl(dir: URL = new URL('.', import.meta.url)): URL {
  for (let up = dir, i = 0; i < 8; up = new URL('..', up), i++) {
    const candidate = new URL('mocks/openapi.yaml', up);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`mocks/openapi.yaml not found above ${dir.pathname}`);
}

export type OperationId = keyof operations;

export interface ContractOperation {
  operationId: OperationId;
  method: HttpMethod;
  /** The path template, e.g. `/v1/private-avatar/assets/{id}`. */
  path: string;
  /** Checks a 2xx body; returns a short description of the first violation, or `null`. */
  check(body: unknown): string | null;
}

export interface Contract {
  operation(operationId: OperationId): ContractOperation;
}

const SCHEMA_ID = 'contract.json';
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PATCH', 'DELETE'];

/**
 * Deliberate tolerances of the runtime check, beyond the contract. Each is a known upstream
 * quirk the client maps on purpose:
 * - `Timestamp`: some deployments (TgxMaas) send Unix seconds instead of ISO 8601 strings
 *   (upstream-api.md §3.6 "Times"); the mapping accepts both, so the check does too.
 * - ② `Total`: see below.
 */
function applyTolerances(schemas: Record<string, any>): void {
  schemas.Timestamp = {
    anyOf: [
      { type: 'string', format: 'date-time' },
      { type: 'number', minimum: 0 },
    ],
  };
  // ② requires `Total`, but Volcengine names it `TotalCount` (§2 ②, as ⑦ already allows) and
  // TgxMaas sends neither; the mapping reads `Total ?? TotalCount`, so only `Items` is required.
  const listGroups = schemas.ListAssetGroupsResponse?.properties?.Result;
  if (listGroups) {
    listGroups.required = ['Items'];
    listGroups.properties.TotalCount = { type: 'integer', minimum: 0 };
  }
}

const cache = new Map<string, Contract>();

/**
 * Loads and compiles the contract once per file (clients created later share the validators).
 * Throws at start-up if the file lacks an operation the client needs.
 */
export function loadContract(url: URL = defaultContractUrl()): Contract {
  const cached = cache.get(url.href);
  if (cached) return cached;
  const contract = compile(parse(readFileSync(url, 'utf8')) as OpenApiDocument);
  cache.set(url.href, contract);
  return contract;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation | unknown>>;
  components: { schemas: Record<string, unknown>; responses?: Record<string, OpenApiResponse> };
}
interface OpenApiOperation {
  operationId?: string;
  responses?: Record<string, OpenApiResponse | { $ref: string }>;
}
interface OpenApiResponse {
  content?: Record<string, { schema?: unknown }>;
}

function compile(document: OpenApiDocument): Contract {
  const schemas = structuredClone(document.components.schemas);
  applyTolerances(schemas);

  const ajv = new Ajv({
    // Unknown keywords are errors, except the OpenAPI annotations below; `nullable` is built in.
    strictSchema: true,
    strictTypes: false,
    strictRequired: false,
    allErrors: false,
  });
  addFormats(ajv, ['date-time', 'uri']);
  ajv.addVocabulary(['example', 'externalDocs', 'xml']);
  ajv.addSchema({ $id: SCHEMA_ID, $defs: rebase(schemas) });

  const operations = new Map<string, ContractOperation>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method.toLowerCase()] as OpenApiOperation | undefined;
      if (!op?.operationId) continue;
      const schema = successSchema(document, op);
      let validate: ValidateFunction | undefined;
      if (schema !== undefined) validate = ajv.compile(rebase(schema));
      operations.set(op.operationId, {
        operationId: op.operationId as OperationId,
        method,
        path,
        check: (body) => {
          if (!validate || validate(body)) return null;
          const first = validate.errors?.[0];
          // ajv messages name the location and the rule, never the offending value.
          return first
            ? `${first.instancePath || '/'} ${first.message ?? 'is invalid'}`
            : 'invalid';
        },
      });
    }
  }

  return {
    operation(operationId) {
      const op = operations.get(operationId);
      if (!op) throw new Error(`The upstream contract has no operation ${operationId}`);
      return op;
    },
  };
}

function successSchema(document: OpenApiDocument, op: OpenApiOperation): unknown {
  for (const [status, entry] of Object.entries(op.responses ?? {})) {
    if (!/^2\d\d$/.test(status)) continue;
    const response = resolveResponse(document, entry);
    return response?.content?.['application/json']?.schema;
  }
  return undefined;
}

function resolveResponse(
  document: OpenApiDocument,
  entry: OpenApiResponse | { $ref: string },
): OpenApiResponse | undefined {
  if ('$ref' in entry && typeof entry.$ref === 'string') {
    const name = entry.$ref.replace('#/components/responses/', '');
    return document.components.responses?.[name];
  }
  return entry as OpenApiResponse;
}

const COMPONENT_REF = '#/components/schemas/';

/** Points `#/components/schemas/X` references at `$defs/X` of the schema added as `SCHEMA_ID`. */
function rebase(schema: unknown): object {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] =
        key === '$ref' && typeof inner === 'string' && inner.startsWith(COMPONENT_REF)
          ? `${SCHEMA_ID}#/$defs/${inner.slice(COMPONENT_REF.length)}`
          : walk(inner);
    }
    return out;
  };
  return walk(schema) as object;
}
