/**
 * The checks one `subscribe` message passes before it runs, with the limits and error codes of
 * `POST /graphql`: the document's size, depth and selection budget, parse, validation (all
 * cached per distinct document by `DocumentAnalyzer`), the operation (only subscriptions are
 * served over WebSocket), variable coercion and size, then cost.
 */
import type { SubscribePayload } from 'graphql-ws';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import type { Limits } from '../config/index.js';
import type { DocumentAnalyzer } from '../security/documents.js';
import { checkVariables } from '../security/limits.js';

/** What `prepare` hands on: all but the context, which is built per operation. */
export type PreparedOperation = Omit<ExecutionArgs, 'contextValue'>;

/**
 * Parses, validates and checks one `subscribe` payload: the execution arguments, or the errors
 * to send for it (with the codes Apollo gives the same failures over HTTP). `documents` must
 * have been made for `schema` and `limits`; without `limits`, only the GraphQL checks run.
 */
export function prepare(
  schema: GraphQLSchema,
  payload: SubscribePayload,
  limits: Limits | undefined,
  documents: DocumentAnalyzer,
): PreparedOperation | GraphQLError[] {
  const source = documents.source(payload.query);
  if (!source.ok) {
    return [source.parse ? withCode(source.error, 'GRAPHQL_PARSE_FAILED') : source.error];
  }
  const { document } = source;
  const invalid = documents.validate(payload.query, document);
  if (invalid.length > 0) return invalid.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
  const operationName = payload.operationName ?? null;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return [
      new GraphQLError(
        operationName
          ? `Unknown operation named "${operationName}".`
          : 'Could not pick an operation: name one with operationName.',
        { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } },
      ),
    ];
  }
  if (operation.operation !== 'subscription') {
    return [
      new GraphQLError(
        'Only subscriptions are served over WebSocket; send queries and mutations to POST /graphql.',
        { extensions: { code: 'BAD_REQUEST' } },
      ),
    ];
  }
  const variables = payload.variables ?? {};
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coerced.errors) return coerced.errors.map((e) => withCode(e, 'BAD_USER_INPUT'));
  if (limits) {
    const refused =
      checkVariables(variables, limits) ??
      documents.operation(payload.query, { schema, document, operationName, variables });
    if (refused) return [refused];
  }
  return { schema, document, operationName, variableValues: variables };
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions['code'] !== undefined) return error;
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...error.extensions, code },
  });
}
