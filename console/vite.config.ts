/**
 * Builds the console (`index.html`) and the GraphiQL IDE (`graphiql.html`) into `dist/console/`,
 * which the gateway serves (`src/web/console.ts`). Everything is bundled: the pages load nothing
 * from another origin, so they work offline and under a `'self'`-only CSP.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [
    react(),
    {
      // Vite's dev server serves graphiql.html at /graphiql too: say so to the console, as the
      // gateway does when GraphiQL is on (src/web/console.ts `GRAPHIQL_META`).
      name: 'graphiql-meta',
      apply: 'serve',
      transformIndexHtml: (_html, { path }) =>
        path === '/index.html'
          ? [{ tag: 'meta', attrs: { name: 'avatar-gateway:graphiql', content: '/graphiql' } }]
          : [],
    },
  ],
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    // The CSP forbids inline scripts and data: URLs; keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { console: here('index.html'), graphiql: here('graphiql.html') },
      // GraphiQL's "use no memo" directives mean nothing to a bundle; timings are noise here.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE' && warning.code !== 'PLUGIN_TIMINGS')
          warn(warning);
      },
    },
  },
  server: {
    // `npm run dev:console`: the gateway (npm start) answers the API on port 4000.
    proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } },
  },
});
