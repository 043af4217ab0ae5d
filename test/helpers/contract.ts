/**
 * Reads mocks/openapi.yaml into a list of operations for contract tests: `$ref`s inlined,
 * parameters merged, named examples collected, plus an ajv validator that understands OpenAPI
 * 3.0 schemas (`nullable`, formats) and the request mutations the negative tests send.
 *
 * Everything is derived from the contract, so an operation added there is tested without new code.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { CONTRACT_PATH } from './prism.js';

const addFormats = addFormatsModule.default;

/** An OpenAPI 3.0 schema object, loosely typed: the tests only read a few keywords. */
export interface Schema {
  type?: string;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  nullable?: boolean;
  default?: unknown;
  example?: unknown;
  format?: string;
  [keyword: string]: unknown;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'options', 'head', 'trace'];

export interface ContractParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
  /** `example`, else the first of `examples`, else the schema's example. */
  example: unknown;
}

export interface ContractHeader {
  name: string;
  required: boolean;
  schema: Schema;
}

export interface ContractResponse {
  /** The documented status, e.g. `'429'`. */
  status: string;
  schema: Schema | undefined;
  /** Named examples; a lone `example` is keyed `''` (no `example=` in `Prefer`). */
  examples: Record<string, unknown>;
  headers: ContractHeader[];
}

export interface ContractOperation {
  operationId: string;
  method: string;
  /** The path template, e.g. `/v1/private-avatar/assets/{id}`. */
  path: string;
  parameters: ContractParameter[];
  requestBody: { required: boolean; schema: Schema; examples: Record<string, unknown> } | undefined;
  responses: ContractResponse[];
}

export interface Contract {
  /** The document with every `$ref` inlined. */
  document: Record<string, any>;
  operations: ContractOperation[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Inlines every local `$ref` (`#/...`); siblings of a `$ref` are ignored, as OpenAPI 3.0 says.
 * Throws on a dangling or cyclic reference, so a broken contract fails loudly.
 */
export function dereference<T>(document: T): T {
  const resolved = new Map<string, unknown>();
  const resolving = new Set<string>();

  const pointer = (ref: string): unknown => {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    let node: unknown = document;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObject(node) && !Array.isArray(node)) throw new Error(`dangling $ref ${ref}`);
      node = (node as Json)[key];
      if (node === undefined) throw new Error(`dangling $ref ${ref}`);
    }
    return node;
  };

  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    if (typeof node.$ref === 'string') {
      const ref = node.$ref;
      if (resolved.has(ref)) return resolved.get(ref);
      if (resolving.has(ref)) throw new Error(`cyclic $ref ${ref}`);
      resolving.add(ref);
      const target = walk(pointer(ref));
      resolving.delete(ref);
      resolved.set(ref, target);
      return target;
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value)]));
  };

  return walk(document) as T;
}

function namedExamples(media: Json | undefined): Record<string, unknown> {
  if (!media) return {};
  if (isObject(media.examples)) {
    return Object.fromEntries(
      Object.entries(media.examples).map(([name, example]) => [name, (example as Json).value]),
    );
  }
  return 'example' in media ? { '': media.example } : {};
}

function parameterExample(parameter: Json): unknown {
  if ('example' in parameter) return parameter.example;
  if (isObject(parameter.examples)) {
    const first = Object.values(parameter.examples)[0];
    if (isObject(first)) return first.value;
  }
  return (parameter.schema as Schema | undefined)?.example;
}

/** Parses and dereferences the contract and lists its operations in document order. */
export function loadContract(file: string = CONTRACT_PATH): Contract {
  const raw = parse(readFileSync(file, 'utf8')) as Json;
  const document = dereference(raw) as Record<string, any>;
  const operations: ContractOperation[] = [];

  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Record<string, any> | undefined;
      if (!operation) continue;

      // Operation-level parameters override path-level ones with the same name and location.
      const byKey = new Map<string, Json>();
      for (const parameter of [
        ...((item.parameters as Json[]) ?? []),
        ...(operation.parameters ?? []),
      ]) {
        byKey.set(`${parameter.in} ${parameter.name}`, parameter);
      }
      const parameters = [...byKey.values()].map((parameter): ContractParameter => ({
        name: parameter.name as string,
        in: parameter.in as ContractParameter['in'],
        required: parameter.required === true,
        schema: (parameter.schema ?? {}) as Schema,
        example: parameterExample(parameter),
      }));

      const bodyMedia = operation.requestBody?.content?.['application/json'] as Json | undefined;
      const requestBody = bodyMedia
        ? {
            required: operation.requestBody.required === true,
            schema: (bodyMedia.schema ?? {}) as Schema,
            examples: namedExamples(bodyMedia),
          }
        : undefined;

      const responses = Object.entries((operation.responses ?? {}) as Record<string, Json>).map(
        ([status, response]): ContractResponse => {
          const media = (response.content as Json | undefined)?.['application/json'] as
            Json | undefined;
          return {
            status,
            schema: media?.schema as Schema | undefined,
            examples: namedExamples(media),
            headers: Object.entries((response.headers ?? {}) as Record<string, Json>).map(
              ([name, header]) => ({
                name,
                required: header.required === true,
                schema: (header.schema ?? {}) as Schema,
              }),
            ),
          };
        },
      );

      operations.push({
        operationId: String(operation.operationId ?? `${method} ${path}`),
        method,
        path,
        parameters,
        requestBody,
        responses,
      });
    }
  }
  return { document, operations };
}

/**
 * One ajv for OpenAPI 3.0 schemas: `nullable` is built into ajv 8, formats come from
 * ajv-formats, and `strict: false` tolerates `example`, `x-*` and other annotations.
 * Compiled validators are cached per schema object.
 */
export function createSchemaValidator(): (schema: Schema) => ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const cache = new WeakMap<Schema, ValidateFunction>();
  return (schema) => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      cache.set(schema, validate);
    }
    return validate;
  };
}

/**
 * Fills path parameters and every query parameter that has an example. `query` overrides
 * (a value) or drops (`undefined`) query parameters by name.
 */
export function requestTarget(
  operation: ContractOperation,
  query: Record<string, string | undefined> = {},
): string {
  let target = operation.path;
  const search = new URLSearchParams();
  for (const parameter of operation.parameters) {
    if (parameter.in === 'path') {
      if (parameter.example === undefined) {
        throw new Error(
          `${operation.operationId}: path parameter ${parameter.name} has no example`,
        );
      }
      target = target.replace(`{${parameter.name}}`, encodeURIComponent(String(parameter.example)));
    } else if (parameter.in === 'query') {
      const value = parameter.name in query ? query[parameter.name] : parameter.example;
      if (value !== undefined) search.set(parameter.name, String(value));
      else if (parameter.required && !(parameter.name in query)) {
        throw new Error(
          `${operation.operationId}: query parameter ${parameter.name} has no example`,
        );
      }
    }
  }
  const queryString = search.toString();
  return queryString ? `${target}?${queryString}` : target;
}

/** The named request examples, or one `(no body)` entry for an operation without a body. */
export function requestExamples(operation: ContractOperation): [string, unknown][] {
  if (!operation.requestBody) return [['(no body)', undefined]];
  const entries = Object.entries(operation.requestBody.examples);
  if (entries.length === 0) {
    throw new Error(`${operation.operationId}: the request body has no example`);
  }
  return entries;
}

/**
 * The schema that applies to `value`: `allOf` merged, and of `oneOf`/`anyOf` the branches
 * `value` satisfies merged in (their `required` and `properties`).
 */
export function effectiveSchema(
  schema: Schema,
  value: unknown,
  validator: (schema: Schema) => ValidateFunction,
): Schema {
  const parts: Schema[] = [schema, ...(schema.allOf ?? [])];
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) {
    if (validator(branch)(value)) parts.push(branch);
  }
  const merged: Schema = { ...schema, required: [], properties: {} };
  for (const part of parts) {
    const resolved = part === schema ? part : effectiveSchema(part, value, validator);
    merged.type ??= resolved.type;
    merged.required = [...new Set([...(merged.required ?? []), ...(resolved.required ?? [])])];
    merged.properties = { ...resolved.properties, ...merged.properties };
  }
  return merged;
}

/** A request body that breaks the contract in one documented way. */
export interface BodyMutation {
  /** e.g. `without Name`, `Filter.GroupType outside its enum`, `PageSize as a string`. */
  name: string;
  body: unknown;
}

const NOT_IN_ENUM = 'not-in-the-enum';
const WRONG_TYPE: Record<string, { label: string; value: unknown }> = {
  string: { label: 'a number', value: 12345 },
  integer: { label: 'a string', value: 'not-a-number' },
  number: { label: 'a string', value: 'not-a-number' },
  boolean: { label: 'a string', value: 'not-a-boolean' },
  array: { label: 'a string', value: 'not-an-array' },
  object: { label: 'a string', value: 'not-an-object' },
};

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root);
  let node = copy as any;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path.at(-1)!] = value;
  return copy;
}

/**
 * Mutations of a valid body derived from its schema: each required top-level field removed;
 * each enum field present (at any depth, first array item included) set outside its enum; each
 * typed field present given a value of the wrong type.
 */
export function bodyMutations(
  schema: Schema,
  example: unknown,
  validator: (schema: Schema) => ValidateFunction,
): BodyMutation[] {
  const mutations: BodyMutation[] = [];
  const top = effectiveSchema(schema, example, validator);
  if (isObject(example)) {
    for (const field of top.required ?? []) {
      if (!(field in example)) continue;
      const { [field]: _removed, ...rest } = example;
      mutations.push({ name: `without ${field}`, body: rest });
    }
  }

  const visit = (node: Schema, value: unknown, path: (string | number)[]) => {
    const label = path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
    const field = label.replace(/^\./, '');
    if (path.length > 0) {
      if (node.enum && typeof value === 'string') {
        mutations.push({
          name: `${field} outside its enum`,
          body: setAt(example, path, NOT_IN_ENUM),
        });
      }
      const wrong = node.type ? WRONG_TYPE[node.type] : undefined;
      if (wrong) {
        mutations.push({
          name: `${field} as ${wrong.label}`,
          body: setAt(example, path, wrong.value),
        });
      }
    }
    const effective = effectiveSchema(node, value, validator);
    if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        const childSchema = effective.properties?.[key];
        if (childSchema) visit(childSchema, child, [...path, key]);
      }
    } else if (Array.isArray(value) && value.length > 0 && effective.items) {
      visit(effective.items, value[0], [...path, 0]);
    }
  };
  visit(schema, example, []);
  return mutations;
}

/** Query strings that break the contract: each required parameter missing, each enum outside. */
export function queryMutations(
  operation: ContractOperation,
): { name: string; query: Record<string, string | undefined> }[] {
  const mutations: { name: string; query: Record<string, string | undefined> }[] = [];
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'query') continue;
    if (parameter.required) {
      mutations.push({
        name: `without ?${parameter.name}`,
        query: { [parameter.name]: undefined },
      });
    }
    if (parameter.schema.enum) {
      mutations.push({
        name: `?${parameter.name} outside its enum`,
        query: { [parameter.name]: NOT_IN_ENUM },
      });
    }
  }
  return mutations;
}

/** Converts a header's text to the JSON type its schema declares, for validation. */
export function headerValue(schema: Schema, text: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number') {
    return text.trim() === '' ? text : Number(text);
  }
  if (schema.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}
