import { registerEnumType } from 'type-graphql';

/** Mirrors the port's `AssetStatus`; the values are the same strings. */
export enum AssetStatus {
  PROCESSING = 'PROCESSING',
  ACTIVE = 'ACTIVE',
  FAILED = 'FAILED',
}

registerEnumType(AssetStatus, {
  name: 'AssetStatus',
  description: 'Where an asset is in the upstream review.',
  valuesConfig: {
    PROCESSING: { description: 'Accepted and being reviewed; not usable yet.' },
    ACTIVE: { description: 'Ready: `uri` can be used in video generation. Final.' },
    FAILED: { description: 'Rejected; see `failure`. Final: upload a new file instead.' },
  },
});
