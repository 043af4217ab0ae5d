/**
 * GraphiQL, bundled (no CDN): queries and mutations as JSON POSTs to `/graphql`, subscriptions
 * over graphql-ws on the same path. The console's key, when this tab has one, fills the
 * `Authorization` header; otherwise the headers tab shows where to put it.
 */
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { authorization, graphqlWsUrl, readCredential } from './credential';
import 'graphiql/graphiql.css';
import './graphiql-page.css';

const credential = readCredential();
const headers = { Authorization: authorization(credential ?? '<your API key or gateway token>') };

const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: graphqlWsUrl(),
  wsConnectionParams: { authorization: headers.Authorization },
});

const EXAMPLE = `# Your groups, newest first. Press Ctrl-Enter (or the play button) to run.
query Groups {
  groups(pageSize: 5) {
    total
    items {
      id
      name
      kind
    }
  }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={EXAMPLE}
      defaultHeaders={JSON.stringify(headers, null, 2)}
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders={false}
    />
  </StrictMode>,
);
