/**
 * The API key or gateway token the person signed in with. Kept in `sessionStorage`: it lasts as
 * long as the tab, is not shared with other tabs, and is gone when the tab closes.
 */
const KEY = 'avatar-gateway.credential';

export function readCredential(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveCredential(credential: string): void {
  sessionStorage.setItem(KEY, credential);
}

export function forgetCredential(): void {
  sessionStorage.removeItem(KEY);
}

/** The `Authorization` header value the gateway expects, over HTTP and in `connection_init`. */
export function authorization(credential: string): string {
  return `Bearer ${credential}`;
}

/** The gateway's WebSocket endpoint on this page's own host (same origin: `connect-src 'self'`). */
export function graphqlWsUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/graphql`;
}
