/**
 * Operation types for the console, from the gateway's committed `schema.graphql` and the
 * `graphql(...)` documents in `console/src/`. `npm run codegen` rewrites `console/src/gql/` (committed, so that
 * typechecking needs no build); `npm run build:console` runs it first.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['console/src/**/*.{ts,tsx}', '!console/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'console/src/gql/': {
      preset: 'client',
      config: {
        // The gateway sends and accepts RFC 3339 strings (`2026-06-01T19:17:15.000Z`).
        scalars: { DateTime: { input: 'string', output: 'string' } },
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
