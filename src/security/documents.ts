/**
 * The analysis of each distinct document, done once and kept in a bounded LRU that HTTP and
 * WebSocket share, so that repeating a document (costly or not) repeats none of the work:
 *
 * - **before validation** (per document): bracket nesting, parse (`GRAPHQL_MAX_TOKENS`),
 *   aliases and literals, and the selection budget (`GRAPHQL_MAX_SELECTIONS`,
 *   `selections.ts`), which bounds what validation may cost;
 * - **validation** (per document; the WebSocket side asks, Apollo validates and caches for HTTP);
 * - **after validation** (per document and operation name): aliases, literals and depth; and
 *   cost, by the values of the only variables it can depend on (`pageSize: $n`, `@include(if:
 *   $x)`; `costVariables`), so `asset(id: $id)` is costed once whatever `$id` is.
 *
 * Variables themselves are checked per request (`checkVariables`), never cached; a cost whose
 * variables do not coerce is not kept either (execution reports them).
 */
import {
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import type { Limits } from '../config/index.js';
import { TooManySelectionsError, type GatewayError } from '../errors/gateway-error.js';
import {
  checkLiterals,
  checkOperation,
  checkShape,
  checkSource,
  costOf,
  costVariables,
  refuseCost,
  type DocumentAnalyzer,
  type OperationToCheck,
  type SourceAnalysis,
} from './limits.js';
import { Lru } from './lru.js';
import { countSelections } from './selections.js';

export type { DocumentAnalyzer, SourceAnalysis };

export interface DocumentAnalyzerOptions {
  /**
   * The most characters of documents kept (each entry weighs its query's length; its parsed
   * form takes roughly ten times as much memory).
   * @default 2000000
   */
  maxChars?: number;
}

interface Entry {
  readonly source: SourceAnalysis;
  validation?: readonly GraphQLError[];
  /** By operation name (`''` for an anonymous one). */
  readonly operations: Map<string, OperationEntry>;
}

interface OperationEntry {
  /** Aliases, literals and depth. */
  readonly shape: GatewayError | null;
  /** The variables the cost can depend on, by name. */
  readonly costVariables: readonly string[];
  /** The cost's refusal (or none) by the values of `costVariables` (`costKey`). */
  readonly costs: Map<string, GatewayError | null>;
}

/** The most costs kept per operation (distinct values of its cost variables). */
const MAX_COSTS_PER_OPERATION = 64;

/** Without `limits`, only parse and validation run (and are cached). */
export function createDocumentAnalyzer(
  schema: GraphQLSchema,
  limits: Limits | undefined,
  options: DocumentAnalyzerOptions = {},
): DocumentAnalyzer {
  const cache = new Lru<string, Entry>(options.maxChars ?? 2_000_000);

  const entryOf = (query: string): Entry => {
    let entry = cache.get(query);
    if (entry === undefined) {
      entry = { source: analyseSource(query, limits), operations: new Map() };
      cache.set(query, entry, query.length);
    }
    return entry;
  };

  return {
    source: (query) => entryOf(query).source,
    validate(query, document) {
      const entry = entryOf(query);
      entry.validation ??= validate(schema, document);
      return entry.validation;
    },
    operation(query, check) {
      if (limits === undefined) return null;
      if (query === undefined) return checkOperation(check, limits);
      const entry = entryOf(query);
      const name = check.operationName ?? '';
      let operation = entry.operations.get(name);
      if (operation === undefined) {
        // Names that match no operation are not kept: a client could make up any number.
        if (!hasOperation(check.document, name)) return checkOperation(check, limits);
        operation = {
          shape: checkShape(check, limits),
          costVariables: costVariables(check.document),
          costs: new Map(),
        };
        entry.operations.set(name, operation);
      }
      if (operation.shape) return operation.shape;
      const key = costKey(operation.costVariables, check.variables ?? {});
      const known = operation.costs.get(key);
      if (known !== undefined) return known;
      const cost = costOf(check);
      const refusal = refuseCost(cost, limits);
      if (cost !== undefined && operation.costs.size < MAX_COSTS_PER_OPERATION) {
        operation.costs.set(key, refusal);
      }
      return refusal;
    },
  };
}

/** The values of `names` in `variables`, as a key; an absent variable differs from `null`. */
function costKey(names: readonly string[], variables: Record<string, unknown>): string {
  if (names.length === 0) return '';
  return JSON.stringify(
    names.map((name) => (Object.hasOwn(variables, name) ? [variables[name]] : 0)),
  );
}

function analyseSource(query: string, limits: Limits | undefined): SourceAnalysis {
  const nesting = limits ? checkSource(query, limits) : null;
  if (nesting) return { ok: false, error: nesting, parse: false };
  let document: DocumentNode;
  try {
    document = parse(query, limits ? { maxTokens: limits.maxTokens } : {});
  } catch (error) {
    if (error instanceof GraphQLError) return { ok: false, error, parse: true };
    throw error;
  }
  if (limits === undefined) return { ok: true, document };
  // Aliases first: a flood of aliases is refused with its own, more telling code.
  const literal = checkLiterals(document, limits);
  if (literal) return { ok: false, error: literal, parse: false };
  if (countSelections(document, limits.maxSelections) > limits.maxSelections) {
    return { ok: false, error: new TooManySelectionsError(limits.maxSelections), parse: false };
  }
  return { ok: true, document };
}

/** Whether `name` (`''`: none given) picks an operation of `document`. */
function hasOperation(document: DocumentNode, name: string): boolean {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (name === '') return operations.length === 1;
  return operations.some((o) => o.name?.value === name);
}
