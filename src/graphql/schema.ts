import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema as buildTypeGraphQLSchema, type PubSub } from 'type-graphql';
import { AssetResolver } from '../resolvers/asset.resolver.js';
import { GroupResolver } from '../resolvers/group.resolver.js';
import { SubscriptionResolver } from '../resolvers/subscription.resolver.js';
import { VerificationResolver } from '../resolvers/verification.resolver.js';
import { DateTimeScalar } from '../schema/date-time.scalar.js';

const NO_TOPICS: PubSub = {
  publish() {
    throw new Error('No subscription uses pub/sub topics.');
  },
  subscribe() {
    throw new Error('No subscription uses pub/sub topics.');
  },
};

/** The executable schema, shared by the server and the `schema.graphql` emitter. */
export async function buildSchema(): Promise<GraphQLSchema> {
  const schema = await buildTypeGraphQLSchema({
    resolvers: [GroupResolver, AssetResolver, VerificationResolver, SubscriptionResolver],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // Arguments are checked by `src/validation.ts`, which raises our BAD_USER_INPUT.
    validate: false,
    // Every subscription brings its own `subscribe` (the status engine); type-graphql insists on
    // a pub/sub for topic-based ones, of which there are none.
    pubSub: NO_TOPICS,
    emitSchemaFile: false,
  });
  // type-graphql has no decorator for the root types; the schema is fresh, so set them here.
  schema.getQueryType()!.description = 'Read your groups and assets.';
  schema.getMutationType()!.description =
    'Manage groups and assets, and verify real people. Arguments are checked before any upstream call.';
  schema.getSubscriptionType()!.description =
    'Live updates over WebSocket (graphql-transport-ws at the same `/graphql` path; send `{ "authorization": "Bearer <token>" }` as the `connection_init` payload). Arguments, credentials and access are checked when you subscribe.';
  return schema;
}

/** The SDL committed as `schema.graphql`: sorted, so that it diffs well. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
