import { createRequire } from 'node:module';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// esbuild (vitest's default transform) drops decorator metadata, which type-graphql needs;
// SWC keeps it. type-graphql is inlined so that it and our code share one copy of graphql.
// Vite would resolve `graphql` to its ESM build (`index.mjs`), while packages Node loads itself
// (@apollo/server) get the CommonJS one (`index.js`): two copies, and Apollo refuses the schema
// ("from another module or realm"). The alias gives everyone the copy Node picks in production.
export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // Decorated classes need Reflect.getMetadata before they load, whatever a test imports first.
    setupFiles: ['reflect-metadata'],
    // Builds the web console for test/browser when its sources changed.
    globalSetup: ['test/browser/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    server: { deps: { inline: ['type-graphql'] } },
  },
});
