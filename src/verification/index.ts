/**
 * Live real-person verification: `service.ts` polls ⑫ for subscribers and exchanges tokens for
 * mutations; `results.ts` remembers redeemed tokens (in memory, or in Redis for several
 * instances).
 */
export {
  createVerificationService,
  type VerificationService,
  type VerificationServiceOptions,
  type VerificationServiceStats,
  type VerificationState,
  type VerificationSubscription,
  type VerificationUpdate,
} from './service.js';
export {
  createMemoryVerificationResults,
  createRedisVerificationResults,
  resultKey,
  type VerificationResults,
} from './results.js';
