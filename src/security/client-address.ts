/**
 * The client's address, as the per-address limits see it (the rate's address bucket, the
 * WebSocket sockets per address). Behind proxies, every client connects from a proxy: with
 * `trustedHops` proxies that each append the address they received from to `X-Forwarded-For`,
 * the client is the entry `trustedHops` from the right of that header followed by the peer.
 * Entries further left were written by the client itself and are never used.
 */
import type { IncomingMessage } from 'node:http';

export function clientAddress(request: IncomingMessage, trustedHops: number): string {
  const peer = request.socket.remoteAddress ?? 'unknown';
  if (trustedHops <= 0) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const chain = [...forwarded, peer];
  // A request with fewer entries came past fewer proxies: its furthest known address.
  return chain[Math.max(0, chain.length - 1 - trustedHops)]!;
}
