import { registerEnumType } from 'type-graphql';

/** Mirrors `VerificationState['status']` of the status engine. */
export enum VerificationStatus {
  PENDING = 'PENDING',
  VERIFIED = 'VERIFIED',
  EXPIRED = 'EXPIRED',
  FAILED = 'FAILED',
  USED = 'USED',
}

registerEnumType(VerificationStatus, {
  name: 'VerificationStatus',
  description: 'Where a real-person verification stands. Every status but PENDING is final.',
  valuesConfig: {
    PENDING: { description: 'The person has not finished the liveness check yet.' },
    VERIFIED: {
      description:
        'The person passed and the token was exchanged for their REAL group (`group`). A later `completeRealPersonVerification` with the same token returns the same group.',
    },
    EXPIRED: { description: 'The token’s time ran out; start a new verification.' },
    FAILED: { description: 'The person did not pass the liveness check; start a new one.' },
    USED: {
      description:
        'The token was exchanged outside this gateway (or the answer was lost), so the group cannot be told; look for it in `groups(filter: { kind: REAL })`.',
    },
  },
});
