/**
 * Hive Gateway serving the supergraph `compose-hive` wrote (SUPERGRAPH), on PORT, at /graphql.
 * Its runtime with defaults and logging off, on a plain Node HTTP server, as its docs show.
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createGatewayRuntime } from '@graphql-hive/gateway';

const gateway = createGatewayRuntime({
  supergraph: await readFile(process.env.SUPERGRAPH ?? 'supergraph.graphql', 'utf8'),
  logging: false,
});
createServer(gateway).listen(Number(process.env.PORT), '127.0.0.1');
// The runtime's own SIGTERM handler waits on disposal that never ends here; nothing to keep.
process.once('SIGTERM', () => process.exit(0));
