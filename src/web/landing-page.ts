/**
 * What a browser sees when it opens `/graphql`: a short page pointing to GraphiQL and the
 * console (both served by this gateway, nothing from a CDN), instead of Apollo Sandbox.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { CONSOLE_PATH, GRAPHIQL_PATH } from './console.js';

export interface LandingPageOptions {
  /** The console is served at `/`. */
  console: boolean;
  /** GraphiQL is served at `/graphiql`. */
  graphiql: boolean;
}

export function landingPagePlugin<TContext extends BaseContext>(
  options: LandingPageOptions,
): ApolloServerPlugin<TContext> {
  const links = [
    options.graphiql
      ? `<li><a href="${GRAPHIQL_PATH}">GraphiQL</a>: write and run queries, with the schema's documentation.</li>`
      : '',
    options.console
      ? `<li><a href="${CONSOLE_PATH}">The console</a>: groups, assets and verifications, by clicking.</li>`
      : '',
  ].join('');
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>avatar-gateway</title></head>
<body>
<h1>avatar-gateway</h1>
<p>This is the GraphQL endpoint: send queries and mutations as JSON <code>POST</code>s here, and subscriptions over WebSocket (graphql-transport-ws).</p>
${links ? `<ul>${links}</ul>` : ''}
</body>
</html>
`;
  return {
    async serverWillStart() {
      return { renderLandingPage: async () => ({ html }) };
    },
  };
}
