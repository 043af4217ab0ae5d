/**
 * The urql client of the console: queries and mutations as JSON POSTs (the gateway's CSRF
 * protection refuses a GET without a preflight header, and urql would send queries as GET
 * with `preferGetMethod`), subscriptions over graphql-ws on the same path.
 */
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { authorization, graphqlWsUrl } from './credential';

export interface GatewayClient {
  client: Client;
  /** The WebSocket client, to close on sign-out. */
  ws: WsClient;
}

export function createGatewayClient(credential: string): GatewayClient {
  const ws = createWsClient({
    url: graphqlWsUrl(),
    connectionParams: { authorization: authorization(credential) },
    lazy: true,
    retryAttempts: Infinity,
  });
  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: { authorization: authorization(credential) } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }),
          };
        },
      }),
    ],
  });
  return { client, ws };
}
