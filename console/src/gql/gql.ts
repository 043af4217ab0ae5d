/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation ConsoleAddAssets($groupId: ID!, $assets: [NewAssetInput!]!) {\n    addAssets(groupId: $groupId, assets: $assets) {\n      assets {\n        ...ConsoleAsset\n      }\n      failures {\n        index\n        code\n        message\n        upstreamCode\n      }\n    }\n  }\n": typeof types.ConsoleAddAssetsDocument,
    "\n  mutation ConsoleRenameAsset($id: ID!, $name: String!) {\n    renameAsset(id: $id, name: $name) {\n      id\n      name\n    }\n  }\n": typeof types.ConsoleRenameAssetDocument,
    "\n  mutation ConsoleDeleteAsset($id: ID!) {\n    deleteAsset(id: $id)\n  }\n": typeof types.ConsoleDeleteAssetDocument,
    "\n  query ConsoleGroup($id: ID!) {\n    group(id: $id) {\n      id\n      name\n      kind\n      description\n      createdAt\n      assets(pageSize: 100) {\n        total\n        items {\n          ...ConsoleAsset\n        }\n      }\n    }\n  }\n": typeof types.ConsoleGroupDocument,
    "\n  fragment ConsoleAsset on Asset {\n    id\n    name\n    type\n    status\n    uri\n    previewUrl\n    createdAt\n    failure {\n      code\n      message\n    }\n  }\n": typeof types.ConsoleAssetFragmentDoc,
    "\n  subscription ConsoleAssetEvents($groupId: ID!) {\n    assetStatusChanged(groupId: $groupId) {\n      kind\n      stale\n      staleReason\n      staleSince\n      asset {\n        ...ConsoleAsset\n      }\n    }\n  }\n": typeof types.ConsoleAssetEventsDocument,
    "\n  query ConsoleGroups($filter: GroupFilter, $page: Int!, $pageSize: Int!) {\n    groups(filter: $filter, page: $page, pageSize: $pageSize) {\n      total\n      page\n      hasNextPage\n      items {\n        id\n        name\n        kind\n        description\n        createdAt\n      }\n    }\n  }\n": typeof types.ConsoleGroupsDocument,
    "\n  mutation ConsoleCreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) {\n      id\n      name\n    }\n  }\n": typeof types.ConsoleCreateGroupDocument,
    "\n  mutation ConsoleRenameGroup($id: ID!, $name: String!) {\n    updateGroup(id: $id, input: { name: $name }) {\n      id\n      name\n    }\n  }\n": typeof types.ConsoleRenameGroupDocument,
    "\n  mutation ConsoleDeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n": typeof types.ConsoleDeleteGroupDocument,
    "\n  mutation ConsoleStartVerification($callbackUrl: String!) {\n    startRealPersonVerification(callbackUrl: $callbackUrl) {\n      token\n      h5Link\n      h5LinkExpiresAt\n      expiresAt\n    }\n  }\n": typeof types.ConsoleStartVerificationDocument,
    "\n  subscription ConsoleVerification($token: String!) {\n    realPersonVerification(token: $token) {\n      status\n      group {\n        id\n        name\n      }\n    }\n  }\n": typeof types.ConsoleVerificationDocument,
};
const documents: Documents = {
    "\n  mutation ConsoleAddAssets($groupId: ID!, $assets: [NewAssetInput!]!) {\n    addAssets(groupId: $groupId, assets: $assets) {\n      assets {\n        ...ConsoleAsset\n      }\n      failures {\n        index\n        code\n        message\n        upstreamCode\n      }\n    }\n  }\n": types.ConsoleAddAssetsDocument,
    "\n  mutation ConsoleRenameAsset($id: ID!, $name: String!) {\n    renameAsset(id: $id, name: $name) {\n      id\n      name\n    }\n  }\n": types.ConsoleRenameAssetDocument,
    "\n  mutation ConsoleDeleteAsset($id: ID!) {\n    deleteAsset(id: $id)\n  }\n": types.ConsoleDeleteAssetDocument,
    "\n  query ConsoleGroup($id: ID!) {\n    group(id: $id) {\n      id\n      name\n      kind\n      description\n      createdAt\n      assets(pageSize: 100) {\n        total\n        items {\n          ...ConsoleAsset\n        }\n      }\n    }\n  }\n": types.ConsoleGroupDocument,
    "\n  fragment ConsoleAsset on Asset {\n    id\n    name\n    type\n    status\n    uri\n    previewUrl\n    createdAt\n    failure {\n      code\n      message\n    }\n  }\n": types.ConsoleAssetFragmentDoc,
    "\n  subscription ConsoleAssetEvents($groupId: ID!) {\n    assetStatusChanged(groupId: $groupId) {\n      kind\n      stale\n      staleReason\n      staleSince\n      asset {\n        ...ConsoleAsset\n      }\n    }\n  }\n": types.ConsoleAssetEventsDocument,
    "\n  query ConsoleGroups($filter: GroupFilter, $page: Int!, $pageSize: Int!) {\n    groups(filter: $filter, page: $page, pageSize: $pageSize) {\n      total\n      page\n      hasNextPage\n      items {\n        id\n        name\n        kind\n        description\n        createdAt\n      }\n    }\n  }\n": types.ConsoleGroupsDocument,
    "\n  mutation ConsoleCreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) {\n      id\n      name\n    }\n  }\n": types.ConsoleCreateGroupDocument,
    "\n  mutation ConsoleRenameGroup($id: ID!, $name: String!) {\n    updateGroup(id: $id, input: { name: $name }) {\n      id\n      name\n    }\n  }\n": types.ConsoleRenameGroupDocument,
    "\n  mutation ConsoleDeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n": types.ConsoleDeleteGroupDocument,
    "\n  mutation ConsoleStartVerification($callbackUrl: String!) {\n    startRealPersonVerification(callbackUrl: $callbackUrl) {\n      token\n      h5Link\n      h5LinkExpiresAt\n      expiresAt\n    }\n  }\n": types.ConsoleStartVerificationDocument,
    "\n  subscription ConsoleVerification($token: String!) {\n    realPersonVerification(token: $token) {\n      status\n      group {\n        id\n        name\n      }\n    }\n  }\n": types.ConsoleVerificationDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleAddAssets($groupId: ID!, $assets: [NewAssetInput!]!) {\n    addAssets(groupId: $groupId, assets: $assets) {\n      assets {\n        ...ConsoleAsset\n      }\n      failures {\n        index\n        code\n        message\n        upstreamCode\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleAddAssets($groupId: ID!, $assets: [NewAssetInput!]!) {\n    addAssets(groupId: $groupId, assets: $assets) {\n      assets {\n        ...ConsoleAsset\n      }\n      failures {\n        index\n        code\n        message\n        upstreamCode\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRenameAsset($id: ID!, $name: String!) {\n    renameAsset(id: $id, name: $name) {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleRenameAsset($id: ID!, $name: String!) {\n    renameAsset(id: $id, name: $name) {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeleteAsset($id: ID!) {\n    deleteAsset(id: $id)\n  }\n"): (typeof documents)["\n  mutation ConsoleDeleteAsset($id: ID!) {\n    deleteAsset(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleGroup($id: ID!) {\n    group(id: $id) {\n      id\n      name\n      kind\n      description\n      createdAt\n      assets(pageSize: 100) {\n        total\n        items {\n          ...ConsoleAsset\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleGroup($id: ID!) {\n    group(id: $id) {\n      id\n      name\n      kind\n      description\n      createdAt\n      assets(pageSize: 100) {\n        total\n        items {\n          ...ConsoleAsset\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ConsoleAsset on Asset {\n    id\n    name\n    type\n    status\n    uri\n    previewUrl\n    createdAt\n    failure {\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment ConsoleAsset on Asset {\n    id\n    name\n    type\n    status\n    uri\n    previewUrl\n    createdAt\n    failure {\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleAssetEvents($groupId: ID!) {\n    assetStatusChanged(groupId: $groupId) {\n      kind\n      stale\n      staleReason\n      staleSince\n      asset {\n        ...ConsoleAsset\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ConsoleAssetEvents($groupId: ID!) {\n    assetStatusChanged(groupId: $groupId) {\n      kind\n      stale\n      staleReason\n      staleSince\n      asset {\n        ...ConsoleAsset\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleGroups($filter: GroupFilter, $page: Int!, $pageSize: Int!) {\n    groups(filter: $filter, page: $page, pageSize: $pageSize) {\n      total\n      page\n      hasNextPage\n      items {\n        id\n        name\n        kind\n        description\n        createdAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleGroups($filter: GroupFilter, $page: Int!, $pageSize: Int!) {\n    groups(filter: $filter, page: $page, pageSize: $pageSize) {\n      total\n      page\n      hasNextPage\n      items {\n        id\n        name\n        kind\n        description\n        createdAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleCreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRenameGroup($id: ID!, $name: String!) {\n    updateGroup(id: $id, input: { name: $name }) {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleRenameGroup($id: ID!, $name: String!) {\n    updateGroup(id: $id, input: { name: $name }) {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n"): (typeof documents)["\n  mutation ConsoleDeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleStartVerification($callbackUrl: String!) {\n    startRealPersonVerification(callbackUrl: $callbackUrl) {\n      token\n      h5Link\n      h5LinkExpiresAt\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation ConsoleStartVerification($callbackUrl: String!) {\n    startRealPersonVerification(callbackUrl: $callbackUrl) {\n      token\n      h5Link\n      h5LinkExpiresAt\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleVerification($token: String!) {\n    realPersonVerification(token: $token) {\n      status\n      group {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ConsoleVerification($token: String!) {\n    realPersonVerification(token: $token) {\n      status\n      group {\n        id\n        name\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;