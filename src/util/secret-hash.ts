/**
 * The name a secret (an API key, a verification token) is stored and logged under: a truncated
 * SHA-256, stable across instances and never reversible to the secret.
 */
import { createHash } from 'node:crypto';

/** 32 hex characters (128 bits) of the SHA-256 of `secret`. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 32);
}
