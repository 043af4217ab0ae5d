/**
 * openapi-to-graphql's schema for `mocks/openapi.yaml`, calling UPSTREAM_URL, served by
 * graphql-yoga on PORT at /graphql. Both with their defaults, except what a deployment of this
 * contract needs: operationId field names, no OAuth "viewer" wrappers, the two list POSTs as
 * queries, and the caller's Bearer key passed through.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { Oas3 } from 'openapi-to-graphql';
import { createYoga, type YogaInitialContext } from 'graphql-yoga';
import { parse } from 'yaml';

// Its ESM build imports a named export `debug` does not have, which Node refuses: load the
// CommonJS build, which shares graphql's CommonJS copy with graphql-yoga.
const { createGraphQLSchema, GraphQLOperationType } = createRequire(import.meta.url)(
  'openapi-to-graphql',
) as typeof import('openapi-to-graphql');

const oas = parse(await readFile(process.env.CONTRACT ?? 'mocks/openapi.yaml', 'utf8')) as Oas3;
const read = { post: GraphQLOperationType.Query };

const { schema } = await createGraphQLSchema<unknown, YogaInitialContext, object>(oas, {
  baseUrl: process.env.UPSTREAM_URL,
  operationIdFieldNames: true,
  viewer: false,
  selectQueryOrMutationField: {
    [oas.info.title]: {
      '/v1/private-avatar/groups/list': read,
      '/v1/private-avatar/assets/list': read,
    },
  },
  headers: (_method, _path, _title, params) => ({
    authorization: params?.context.request.headers.get('authorization') ?? '',
  }),
});
createServer(createYoga({ schema, logging: false })).listen(Number(process.env.PORT), '127.0.0.1');
