import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../graphql/context.js';
import type { SubscriptionServer } from './server.js';

/**
 * The subscription transport's Apollo plugin: on `apollo.stop()` it closes the sockets (1001)
 * while the HTTP server drains, and it refuses subscription operations sent over HTTP (which
 * would otherwise run their field once, without a stream) with `BAD_REQUEST` (HTTP 400).
 * `get` returns the subscription server once it is attached.
 */
export function subscriptionTransportPlugin(
  get: () => SubscriptionServer | undefined,
): ApolloServerPlugin<GatewayContext> {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          await get()?.dispose();
        },
      };
    },
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            'Subscriptions are served over WebSocket (graphql-transport-ws) at this path, not over HTTP.',
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        },
      };
    },
  };
}
