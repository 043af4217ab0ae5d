/**
 * Hash routes (`#/groups/<id>`), so that the gateway serves one HTML file at `/` and a reload
 * keeps the page.
 */
import { useEffect, useState } from 'react';

export type Route =
  { page: 'groups' } | { page: 'group'; id: string } | { page: 'verify' } | { page: 'verified' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const group = /^\/groups\/(.+)$/.exec(path);
  if (group?.[1]) return { page: 'group', id: decodeURIComponent(group[1]) };
  if (path === '/verify') return { page: 'verify' };
  if (path === '/verified') return { page: 'verified' };
  return { page: 'groups' };
}

export const hrefOf = {
  groups: '#/',
  group: (id: string) => `#/groups/${encodeURIComponent(id)}`,
  verify: '#/verify',
  verified: '#/verified',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
