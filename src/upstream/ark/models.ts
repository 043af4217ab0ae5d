/**
 * The Ark `model` routing values: every call names one (in the body of POST/PATCH, the query of
 * GET/DELETE). The one list of them; the simulator accepts exactly these.
 */
export const ARK_MODELS = [
  'doubao-seedance-2-0-260128',
  'doubao-seedance-2-0-fast-260128',
] as const;

export type ArkModel = (typeof ARK_MODELS)[number];

export const DEFAULT_MODEL: ArkModel = 'doubao-seedance-2-0-260128';
