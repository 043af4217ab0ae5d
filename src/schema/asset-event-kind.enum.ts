import { registerEnumType } from 'type-graphql';

/** What an `AssetStatusEvent` reports. */
export enum AssetEventKind {
  STATUS = 'STATUS',
  DELETED = 'DELETED',
  STALE = 'STALE',
  RECOVERED = 'RECOVERED',
}

registerEnumType(AssetEventKind, {
  name: 'AssetEventKind',
  description: 'What happened to the asset of an `AssetStatusEvent`.',
  valuesConfig: {
    STATUS: {
      description:
        'The asset’s current state: the first event of each watched asset (`previousStatus` null), then each change once.',
    },
    DELETED: {
      description:
        'The asset no longer exists upstream; `asset` is its last known state. The last event about it.',
    },
    STALE: {
      description:
        'The gateway could not refresh the asset’s status since `staleSince` (see `staleReason`); `asset` is the last known state, which still stands. Polling goes on.',
    },
    RECOVERED: {
      description:
        'The asset’s status can be read again after a STALE event; a STATUS event follows if it changed meanwhile.',
    },
  },
});
