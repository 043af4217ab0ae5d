import { registerEnumType } from 'type-graphql';

/** Mirrors the port's `AvatarKind`; the values are the same strings. */
export enum AvatarKind {
  VIRTUAL = 'VIRTUAL',
  REAL = 'REAL',
}

registerEnumType(AvatarKind, {
  name: 'AvatarKind',
  description: 'What a group portrays.',
  valuesConfig: {
    VIRTUAL: { description: 'A virtual (AI-generated) character; upstream group type `AIGC`.' },
    REAL: {
      description:
        'A real person who passed a liveness check; upstream group type `LivenessFace`. Created only by `completeRealPersonVerification`.',
    },
  },
});
