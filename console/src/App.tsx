/** The console's frame: sign-in, navigation, and the page of the current route. */
import { useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { SignIn } from './components/SignIn';
import { createGatewayClient } from './client';
import { forgetCredential, readCredential, saveCredential } from './credential';
import { GroupPage } from './pages/GroupPage';
import { GroupsPage } from './pages/GroupsPage';
import { VerifyPage } from './pages/VerifyPage';
import { hrefOf, useRoute, type Route } from './route';

/**
 * Where GraphiQL is, when the gateway serves it: it adds this `<meta>` to the page only then
 * (src/web/console.ts `GRAPHIQL_META`), so a gateway with GraphiQL off shows no link to a 404.
 */
const graphiqlHref =
  document.querySelector<HTMLMetaElement>('meta[name="avatar-gateway:graphiql"]')?.content || null;

export function App() {
  const [credential, setCredential] = useState(readCredential);
  const gateway = useMemo(
    () => (credential ? createGatewayClient(credential) : null),
    [credential],
  );
  useEffect(() => () => void gateway?.ws.dispose(), [gateway]);
  const route = useRoute();

  // The phone lands here after the liveness check, in a tab that never signed in.
  if (route.page === 'verified') return <Verified />;
  if (!credential || !gateway) {
    return (
      <SignIn
        onSignIn={(value) => {
          saveCredential(value);
          setCredential(value);
        }}
      />
    );
  }
  return (
    <Provider value={gateway.client}>
      <header className="top">
        <nav aria-label="Console">
          <a href={hrefOf.groups} aria-current={route.page === 'groups' ? 'page' : undefined}>
            Groups
          </a>
          <a href={hrefOf.verify} aria-current={route.page === 'verify' ? 'page' : undefined}>
            Verify a real person
          </a>
          {graphiqlHref && <a href={graphiqlHref}>GraphiQL</a>}
        </nav>
        <button
          type="button"
          onClick={() => {
            forgetCredential();
            setCredential(null);
          }}
        >
          Sign out
        </button>
      </header>
      <Page route={route} />
    </Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'group':
      return <GroupPage key={route.id} id={route.id} />;
    case 'verify':
      return <VerifyPage />;
    default:
      return <GroupsPage />;
  }
}

function Verified() {
  return (
    <main>
      <h1>Liveness check finished</h1>
      <p>
        You can close this page. The console where the verification was started shows the result.
      </p>
    </main>
  );
}
