/**
 * Limits on what one GraphQL request may ask, each refused with its own code:
 *
 * | check | when | code |
 * | --- | --- | --- |
 * | batch size | HTTP body read | `BATCH_TOO_LARGE` |
 * | bracket nesting (before parsing, so the recursive parser is safe) | HTTP body read | `QUERY_TOO_DEEP` |
 * | tokens | parsing (Apollo `parseOptions.maxTokens`) | `GRAPHQL_PARSE_FAILED` |
 * | aliases, literal strings and lists, selections (`selections.ts`) | before validation (`documents.ts`) | `TOO_MANY_ALIASES`, `INPUT_TOO_LARGE`, `QUERY_TOO_COMPLEX` |
 * | aliases, field depth, literal strings and lists, variables, cost | after validation | `TOO_MANY_ALIASES`, `QUERY_TOO_DEEP`, `INPUT_TOO_LARGE`, `QUERY_TOO_COMPLEX` |
 *
 * Pure functions over `graphql` values, plus an Apollo plugin. `documents.ts` runs them once per
 * distinct document (with the selection budget before validation) for HTTP and WebSocket.
 */
import { createRequire } from 'node:module';
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import {
  getNamedType,
  isLeafType,
  Kind,
  Lexer,
  Source,
  TokenKind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type * as QueryComplexity from 'graphql-query-complexity';
import type { GraphQLError } from 'graphql';
import type { Limits } from '../config/index.js';
import {
  BatchTooLargeError,
  InputTooLargeError,
  QueryTooComplexError,
  QueryTooDeepError,
  TooManyAliasesError,
  type GatewayError,
} from '../errors/gateway-error.js';

// The CommonJS build, on purpose: its ESM build imports `graphql/index.mjs`, a second copy of
// graphql whose classes would not recognise our schema's.
const { getComplexity } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof QueryComplexity;

/** How deep nested variables may go (`{"a":{"b":[...]}}`): far beyond any input type of ours. */
export const MAX_VARIABLES_NESTING = 16;
/** The cost a root mutation field adds: each one writes upstream. */
export const MUTATION_COST = 10;

/**
 * Bracket nesting allowed before parsing: generous next to the field depth (selection sets,
 * arguments and input objects all nest), and far below what would exhaust the parser's stack.
 */
export function sourceNestingLimit(maxDepth: number): number {
  return maxDepth * 2 + 10;
}

/**
 * Checks a query's text without parsing it: bracket nesting (the parser recurses on it). Stops
 * after `maxTokens` tokens or at a lexical error; the parser then reports those.
 */
export function checkSource(query: string, limits: Pick<Limits, 'maxDepth' | 'maxTokens'>) {
  const maxNesting = sourceNestingLimit(limits.maxDepth);
  const lexer = new Lexer(new Source(query));
  let nesting = 0;
  try {
    for (let i = 0; i <= limits.maxTokens; i++) {
      const token = lexer.advance();
      if (token.kind === TokenKind.EOF) return null;
      if (
        token.kind === TokenKind.BRACE_L ||
        token.kind === TokenKind.BRACKET_L ||
        token.kind === TokenKind.PAREN_L
      ) {
        if (++nesting > maxNesting) {
          return new QueryTooDeepError(
            `brackets nest more than ${maxNesting} levels deep (fields at most ${limits.maxDepth})`,
            limits.maxDepth,
          );
        }
      } else if (
        token.kind === TokenKind.BRACE_R ||
        token.kind === TokenKind.BRACKET_R ||
        token.kind === TokenKind.PAREN_R
      ) {
        nesting--;
      }
    }
  } catch {
    // A lexical error: the parser will say where.
  }
  return null;
}

/** The `query` of one HTTP operation, when it is a string. */
function queryOf(operation: unknown): string | undefined {
  if (typeof operation !== 'object' || operation === null) return undefined;
  const query = (operation as { query?: unknown }).query;
  return typeof query === 'string' ? query : undefined;
}

/** A document as far as it got before validation. */
export type SourceAnalysis =
  | { readonly ok: true; readonly document: DocumentNode }
  /** `parse`: the query is not valid GraphQL syntax (`GRAPHQL_PARSE_FAILED`). */
  | { readonly ok: false; readonly error: GraphQLError; readonly parse: boolean };

/**
 * The per-document cache of these checks (`documents.ts` implements it); declared here, below it,
 * so that the checks that accept one do not import it.
 */
export interface DocumentAnalyzer {
  /** Nesting, parse and selection budget of `query`. */
  source(query: string): SourceAnalysis;
  /** The validation errors of a document `source` accepted (none: valid). */
  validate(query: string, document: DocumentNode): readonly GraphQLError[];
  /**
   * Aliases, literals, depth and cost of a validated document's operation; `query` is the text
   * it was parsed from (`undefined`: not cached, e.g. a persisted query Apollo resolved).
   */
  operation(query: string | undefined, check: OperationToCheck): GatewayError | null;
}

/**
 * Checks an HTTP request's operations before Apollo parses them: `body` is the parsed JSON body
 * (an operation or a batch), or for GET the operation read from the query string.
 */
export function checkHttpOperations(
  body: unknown,
  limits: Pick<Limits, 'maxBatch' | 'maxDepth' | 'maxTokens'>,
  documents?: Pick<DocumentAnalyzer, 'source'>,
): GraphQLError | null {
  const operations = Array.isArray(body) ? body : [body];
  if (Array.isArray(body) && (limits.maxBatch <= 1 || body.length > limits.maxBatch)) {
    return new BatchTooLargeError(body.length, limits.maxBatch);
  }
  for (const operation of operations) {
    const query = queryOf(operation);
    if (query === undefined) continue;
    if (documents === undefined) {
      const error = checkSource(query, limits);
      if (error) return error;
      continue;
    }
    // The selection budget too (`documents.ts`); syntax errors are left to Apollo to report.
    const analysis = documents.source(query);
    if (!analysis.ok && !analysis.parse && analysis.error) return analysis.error;
  }
  return null;
}

/** A user-supplied key, cut short for an error message. */
function label(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
}

/**
 * Checks request variables: each string, each list, the nesting and the approximate total size
 * (string and key lengths plus 8 per other value). Iterative, so deep nesting cannot overflow.
 */
export function checkVariables(
  variables: unknown,
  limits: Pick<Limits, 'maxStringLength' | 'maxListLength' | 'maxVariablesBytes'>,
): GatewayError | null {
  if (variables === null || variables === undefined) return null;
  let size = 0;
  const stack: Array<[value: unknown, path: string, depth: number]> = [[variables, 'variables', 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (depth > MAX_VARIABLES_NESTING) {
      return new InputTooLargeError(
        `${path} is nested more than ${MAX_VARIABLES_NESTING} levels deep.`,
        path,
      );
    }
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) {
        return new InputTooLargeError(
          `${path} is longer than ${limits.maxStringLength} characters.`,
          path,
        );
      }
      size += value.length + 2;
    } else if (Array.isArray(value)) {
      if (value.length > limits.maxListLength) {
        return new InputTooLargeError(`${path} has more than ${limits.maxListLength} items.`, path);
      }
      size += 2;
      value.forEach((item, i) => stack.push([item, `${path}[${i}]`, depth + 1]));
    } else if (typeof value === 'object' && value !== null) {
      size += 2;
      for (const [key, item] of Object.entries(value)) {
        size += key.length + 3;
        stack.push([item, `${path}.${label(key)}`, depth + 1]);
      }
    } else {
      size += 8;
    }
    if (size > limits.maxVariablesBytes) {
      return new InputTooLargeError(
        `The variables are larger than ${limits.maxVariablesBytes} bytes.`,
        'variables',
      );
    }
  }
  return null;
}

export interface OperationToCheck {
  schema: GraphQLSchema;
  /** A parsed and validated document. */
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * Checks a validated document: aliases, literal strings and lists, field depth, then cost (with
 * the variables, since `pageSize: $n` weighs by `$n`).
 */
export function checkOperation(
  check: OperationToCheck,
  limits: Pick<Limits, 'maxAliases' | 'maxDepth' | 'maxCost' | 'maxStringLength' | 'maxListLength'>,
): GatewayError | null {
  return checkShape(check, limits) ?? refuseCost(costOf(check), limits);
}

/**
 * The checks of {@link checkOperation} that do not depend on the variables: aliases, literal
 * strings and lists, field depth. `null` also when no operation matches (Apollo reports it).
 */
export function checkShape(
  { document, operationName }: Pick<OperationToCheck, 'document' | 'operationName'>,
  limits: Pick<Limits, 'maxAliases' | 'maxDepth' | 'maxStringLength' | 'maxListLength'>,
): GatewayError | null {
  const literal = checkLiterals(document, limits);
  if (literal) return literal;

  const operation = operationOf(document, operationName);
  if (operation === undefined) return null; // Apollo reports it.

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const depth = selectionDepth(operation.selectionSet, fragments, new Map());
  if (depth > limits.maxDepth) {
    return new QueryTooDeepError(`fields nest ${depth} levels deep`, limits.maxDepth);
  }
  return null;
}

/**
 * The cost of the operation with these variables (see {@link costEstimator}); `undefined` when
 * the variables do not coerce (execution reports them), infinite past the node limit of
 * graphql-query-complexity.
 */
export function costOf({
  schema,
  document,
  operationName,
  variables,
}: OperationToCheck): number | undefined {
  try {
    return getComplexity({
      schema,
      query: document,
      ...(operationName ? { operationName } : {}),
      variables: variables ?? {},
      estimators: [estimatorOf(schema)],
    });
  } catch (error) {
    if (error instanceof Error && /maximum allowed number of nodes/.test(error.message)) {
      return Number.POSITIVE_INFINITY;
    }
    return undefined;
  }
}

/** The refusal of a cost from {@link costOf}, if it is over `maxCost`. */
export function refuseCost(
  cost: number | undefined,
  limits: Pick<Limits, 'maxCost'>,
): GatewayError | null {
  return cost !== undefined && cost > limits.maxCost
    ? new QueryTooComplexError(cost, limits.maxCost)
    : null;
}

/** The field arguments that multiply a selection's cost (see {@link costEstimator}). */
const SIZE_ARGUMENTS: ReadonlySet<string> = new Set(['pageSize', 'first']);

/**
 * The variables a document's cost can depend on: those in a size argument ({@link
 * SIZE_ARGUMENTS}) and those in any directive (`@include(if: $x)` decides what is counted).
 * Other variables (`asset(id: $id)`) never change the cost, so a cost computed once holds for
 * every request that sends the same values of these.
 */
export function costVariables(document: DocumentNode): readonly string[] {
  const names = new Set<string>();
  const collect = (value: ValueNode) =>
    visit(value, { Variable: (node) => void names.add(node.name.value) });
  visit(document, {
    Field(node) {
      for (const argument of node.arguments ?? []) {
        if (SIZE_ARGUMENTS.has(argument.name.value)) collect(argument.value);
      }
    },
    Directive(node) {
      for (const argument of node.arguments ?? []) collect(argument.value);
    },
  });
  return [...names].sort();
}

/** Aliases, and strings and lists written into the document itself; needs no validation. */
export function checkLiterals(
  document: DocumentNode,
  limits: Pick<Limits, 'maxAliases' | 'maxStringLength' | 'maxListLength'>,
): GatewayError | null {
  let aliases = 0;
  let found: GatewayError | null = null;
  // `visit` is iterative: deep documents cannot overflow it.
  visit(document, {
    Field(node) {
      if (node.alias) aliases++;
    },
    StringValue(node) {
      if (found === null && node.value.length > limits.maxStringLength) {
        found = new InputTooLargeError(
          `A string in the query is longer than ${limits.maxStringLength} characters.`,
          'query',
        );
      }
    },
    ListValue(node) {
      if (found === null && node.values.length > limits.maxListLength) {
        found = new InputTooLargeError(
          `A list in the query has more than ${limits.maxListLength} items.`,
          'query',
        );
      }
    },
  });
  if (aliases > limits.maxAliases) return new TooManyAliasesError(aliases, limits.maxAliases);
  return found;
}

function operationOf(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/**
 * The deepest field path, counting fields only (fragments are transparent) and skipping
 * introspection (`__schema`, `__type`), which the schema itself bounds. Fragment depths are
 * memoised; validation has already refused fragment cycles.
 */
function selectionDepth(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  memo: Map<string, number>,
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__schema' || name === '__type') continue;
      depth =
        1 + (selection.selectionSet ? selectionDepth(selection.selectionSet, fragments, memo) : 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = selectionDepth(selection.selectionSet, fragments, memo);
    } else {
      const name = selection.name.value;
      let known = memo.get(name);
      if (known === undefined) {
        const fragment = fragments.get(name);
        memo.set(name, 0); // Cycle guard, should validation ever be skipped.
        known = fragment ? selectionDepth(fragment.selectionSet, fragments, memo) : 0;
        memo.set(name, known);
      }
      depth = known;
    }
    if (depth > deepest) deepest = depth;
  }
  return deepest;
}

/**
 * Scalars and enums cost 0, objects 1; a field with a `pageSize` or `first` argument multiplies
 * its selection's cost by it (defaults included); a root mutation field costs 10 more. Reads no
 * argument but those ({@link costVariables} relies on it).
 */
function costEstimator(schema: GraphQLSchema): QueryComplexity.ComplexityEstimator {
  const mutationType = schema.getMutationType();
  return ({ type, field, args, childComplexity }) => {
    const own = isLeafType(getNamedType(field.type)) ? 0 : 1;
    const sizeArg = args['pageSize'] ?? args['first'];
    const size = typeof sizeArg === 'number' && Number.isFinite(sizeArg) ? Math.max(1, sizeArg) : 1;
    const write = mutationType !== null && mutationType !== undefined && type === mutationType;
    return own + (write ? MUTATION_COST : 0) + size * childComplexity;
  };
}

const estimators = new WeakMap<GraphQLSchema, QueryComplexity.ComplexityEstimator>();

/** The estimator of `schema`, built once per schema. */
function estimatorOf(schema: GraphQLSchema): QueryComplexity.ComplexityEstimator {
  let estimator = estimators.get(schema);
  if (estimator === undefined) {
    estimator = costEstimator(schema);
    estimators.set(schema, estimator);
  }
  return estimator;
}

/**
 * The Apollo plugin: variables, aliases, literals, depth and cost after validation, before
 * execution. A refusal answers HTTP 400 with the error's code.
 */
export function createLimitsPlugin<TContext extends BaseContext>(
  limits: Limits,
  documents?: Pick<DocumentAnalyzer, 'operation'>,
): ApolloServerPlugin<TContext> {
  // Stateless, so one listener serves every request (none allocated per request).
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation({ request, document, schema, operationName }) {
      const check = { schema, document, operationName, variables: request.variables ?? null };
      const error =
        checkVariables(request.variables, limits) ??
        (documents ? documents.operation(request.query, check) : checkOperation(check, limits));
      if (error) throw error;
    },
  };
  return { requestDidStart: async () => listener };
}
