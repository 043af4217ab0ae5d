/**
 * The layering of src/, checked by `npm run check:deps` (part of `npm run check`). Each rule
 * says why it exists; the README's architecture section draws the same picture.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const GRAPHQL =
  '^(graphql|type-graphql|graphql-ws|graphql-scalars|graphql-query-complexity|@apollo/)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'An import cycle means no reading order: every file must be readable after the ones it imports.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'engine-knows-no-graphql',
      comment:
        'upstream/, status/, verification/ and ledger/ are the engine: they speak the domain, never GraphQL, so a second API or a CLI could drive them.',
      severity: 'error',
      from: { path: '^src/(upstream|status|verification|ledger)/' },
      to: { path: [`node_modules/${GRAPHQL.slice(1)}`, '^src/(resolvers|schema|graphql)/'] },
    },
    {
      name: 'upstream-knows-no-status',
      comment:
        'The upstream port is below the status engine: status/ asks upstream/, never the reverse.',
      severity: 'error',
      from: { path: '^src/upstream/' },
      to: { path: '^src/(status|verification|subscriptions)/' },
    },
    {
      name: 'http-engine-knows-no-dialect',
      comment:
        'upstream/http/ is the dialect-free engine: a dialect reaches it through the Dialect object, never by import.',
      severity: 'error',
      from: { path: '^src/upstream/http/' },
      to: { path: '^src/upstream/(ark|apimart)/' },
    },
    {
      name: 'dialects-stay-behind-the-factory',
      comment:
        "Only upstream/ (its factory, upstream/index.ts), the composition root app.ts and the simulator know a dialect; config reads Ark's model list. Everything else speaks the port, so a third dialect changes nothing outside upstream/.",
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '^src/upstream/',
          '^src/app\\.ts$',
          '^src/simulator/',
          '^src/config/fields\\.ts$',
        ],
      },
      to: { path: '^src/upstream/(ark|apimart)/' },
    },
    {
      name: 'port-is-the-bottom',
      comment:
        'upstream/port.ts and upstream/errors.ts are the vocabulary everyone shares; they import nothing of ours.',
      severity: 'error',
      from: { path: '^src/upstream/(port|errors)\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'resolvers-know-no-http',
      comment:
        'Resolvers call the typed upstream port from the context; HTTP (node:http, undici) stays in upstream/ and the server.',
      severity: 'error',
      from: { path: '^src/resolvers/' },
      to: {
        path: ['^(node:)?https?$', 'node_modules/undici/', '^src/upstream/(http|ark|apimart)/'],
      },
    },
    {
      name: 'schema-knows-no-resolvers',
      comment:
        'schema/ holds the GraphQL types only; the resolvers import them, not the other way.',
      severity: 'error',
      from: { path: '^src/schema/' },
      to: { path: '^src/resolvers/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
