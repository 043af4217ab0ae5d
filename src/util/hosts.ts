/**
 * The addresses a server listening on `HOST` is reached on, for the URLs it prints or hands out
 * (the embedded simulator's, the standalone simulator's).
 */
import { createServer } from 'node:net';

const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);

/** The address this process reaches its own server on. */
export function loopbackHost(host: string): string {
  if (WILDCARD_HOSTS.has(host)) return '127.0.0.1';
  return bracketed(host);
}

/** The address a browser on this machine opens the server's pages on (e.g. the H5 page). */
export function browserHost(host: string): string {
  if (WILDCARD_HOSTS.has(host)) return 'localhost';
  return bracketed(host);
}

/**
 * A port free on `host` now, for servers whose URLs must be known before they listen. Rejects
 * with the listen error (e.g. `EADDRNOTAVAIL` for an address not of this machine).
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, WILDCARD_HOSTS.has(host) ? undefined : host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
