import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema as buildTypeGraphQLSchema } from 'type-graphql';
import { AssetResolver } from '../resolvers/asset.resolver.js';
import { GroupResolver } from '../resolvers/group.resolver.js';
import { VerificationResolver } from '../resolvers/verification.resolver.js';
import { DateTimeScalar } from './date-time.scalar.js';

/** The executable schema, shared by the server and the `schema.graphql` emitter. */
export async function buildSchema(): Promise<GraphQLSchema> {
  const schema = await buildTypeGraphQLSchema({
    resolvers: [GroupResolver, AssetResolver, VerificationResolver],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // Arguments are checked by `src/validation.ts`, which raises our BAD_USER_INPUT.
    validate: false,
    emitSchemaFile: false,
  });
  // type-graphql has no decorator for the root types; the schema is fresh, so set them here.
  schema.getQueryType()!.description = 'Read your groups and assets.';
  schema.getMutationType()!.description =
    'Manage groups and assets, and verify real people. Arguments are checked before any upstream call.';
  return schema;
}

/** The SDL committed as `schema.graphql`: sorted, so that it diffs well. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
