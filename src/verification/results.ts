/**
 * The memory of redeemed tokens that makes ⑫'s single use invisible to callers: the group of a
 * token redeemed through this gateway, per credential hash and token hash, for the token's
 * lifetime — in this process, or in Redis when the gateway runs as several instances.
 *
 * With a ledger this is a cache that may be lost: the durable record of each token (its tenant,
 * its outcome, the verified group as the tenant's) is the ledger's, written by the resolvers
 * (`src/resolvers/verification-ledger.ts`), which answer from it before reaching this service.
 * The ledger cannot stand behind this interface: its keys are credentials, not tenants, and
 * over a shared server key one credential serves many tenants.
 */
import type { Redis } from 'ioredis';
import { secretHash } from '../util/secret-hash.js';

/** The memory of redeemed tokens: group ids by an opaque key (hashes only, never a secret). */
export interface VerificationResults {
  get(key: string): Promise<string | null>;
  set(key: string, groupId: string, ttlMs: number): Promise<void>;
}

/** For one process: a map with expiry. */
export function createMemoryVerificationResults(
  options: { now?: () => number } = {},
): VerificationResults {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { groupId: string; expiresAt: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (!entry) return null;
      if (entry.expiresAt > now()) return entry.groupId;
      entries.delete(key);
      return null;
    },
    async set(key, groupId, ttlMs) {
      const at = now();
      // Drop expired entries now and then, so the map never grows with dead tokens.
      if (entries.size >= 1024) {
        for (const [k, e] of entries) if (e.expiresAt <= at) entries.delete(k);
      }
      entries.set(key, { groupId, expiresAt: at + ttlMs });
    },
  };
}

/**
 * Shared by every instance: `SET <prefix>verified:<credential hash>:<token hash> <group id> PX`.
 * Uses the given client for commands and never closes it.
 */
export function createRedisVerificationResults(options: {
  redis: Redis;
  /** @default 'avatar-gateway:' */
  keyPrefix?: string;
}): VerificationResults {
  const prefix = `${options.keyPrefix ?? 'avatar-gateway:'}verified:`;
  const { redis } = options;
  return {
    get: (key) => redis.get(prefix + key),
    async set(key, groupId, ttlMs) {
      await redis.set(prefix + key, groupId, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
  };
}

/** The key a redeemed token is remembered under: hashes of the credential and the token. */
export function resultKey(credential: string, token: string): string {
  return `${secretHash(credential)}:${secretHash(token)}`;
}
