/**
 * Composes the supergraph Hive Gateway serves: omnigraph's OpenAPI source over
 * `mocks/openapi.yaml`, pointed at UPSTREAM_URL, written to the file named by SUPERGRAPH.
 * A step of its own so that the gateway process does not carry the composition tooling.
 */
import { writeFile } from 'node:fs/promises';
import { getComposedSchemaFromConfig } from '@graphql-mesh/compose-cli';
import { DefaultLogger } from '@graphql-mesh/utils';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const contract = process.env.CONTRACT ?? 'mocks/openapi.yaml';

const supergraph = await getComposedSchemaFromConfig(
  {
    subgraphs: [
      {
        sourceHandler: loadOpenAPISubgraph('Avatar', {
          source: contract,
          endpoint: process.env.UPSTREAM_URL,
          // Pass-through: the caller's Bearer key is the upstream key, as in avatar-gateway.
          operationHeaders: { Authorization: '{context.headers.authorization}' },
          // The two list calls are POSTs that read; a client queries them.
          selectQueryOrMutationField: [
            { type: 'Query', fieldName: 'listAssetGroups' },
            { type: 'Query', fieldName: 'listAssets' },
          ],
        }),
      },
    ],
    // The contract has no link from a group to its assets; Mesh's way to add one is a field
    // resolved by another operation: one ListAssets call per group (it cannot batch a page).
    additionalTypeDefs: /* GraphQL */ `
      extend type Group {
        assets: listAssets_response
          @resolveTo(
            sourceName: "Avatar"
            sourceTypeName: "Query"
            sourceFieldName: "listAssets"
            requiredSelectionSet: "{ Id }"
            sourceArgs: {
              input: { model: "doubao_seedance_2_0_260128", Filter: { GroupIds: ["{root.Id}"] } }
            }
          )
      }
    `,
  },
  new DefaultLogger('compose'),
);
await writeFile(process.env.SUPERGRAPH ?? 'supergraph.graphql', supergraph);
