/**
 * One group: its assets with live status (no reload), adding assets by URL, renaming and
 * deleting the group and its assets.
 */
import { useEffect, useReducer } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { AddAssetsForm } from '../components/AddAssetsForm';
import { AssetTable } from '../components/AssetTable';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorNote } from '../components/ErrorNote';
import { RenameForm } from '../components/RenameForm';
import { graphql } from '../gql';
import { liveAssets, ordered, type LiveAssets } from '../live-assets';
import { hrefOf } from '../route';
import { DeleteGroup, RenameGroup } from './GroupsPage';

const GroupQuery = graphql(`
  query ConsoleGroup($id: ID!) {
    group(id: $id) {
      id
      name
      kind
      description
      createdAt
      assets(pageSize: 100) {
        total
        items {
          ...ConsoleAsset
        }
      }
    }
  }
`);

graphql(`
  fragment ConsoleAsset on Asset {
    id
    name
    type
    status
    uri
    previewUrl
    createdAt
    failure {
      code
      message
    }
  }
`);

const AssetEvents = graphql(`
  subscription ConsoleAssetEvents($groupId: ID!) {
    assetStatusChanged(groupId: $groupId) {
      kind
      stale
      staleReason
      staleSince
      asset {
        ...ConsoleAsset
      }
    }
  }
`);

const EMPTY: LiveAssets = new Map();

export function GroupPage({ id }: { id: string }) {
  const [group] = useQuery({ query: GroupQuery, variables: { id } });
  const [assets, dispatch] = useReducer(liveAssets, EMPTY);
  const [events] = useSubscription({ query: AssetEvents, variables: { groupId: id } }, (_, e) => {
    const { kind, asset, staleReason, staleSince } = e.assetStatusChanged;
    dispatch({ type: 'event', kind, asset, staleReason, staleSince });
    return e;
  });
  const loaded = group.data?.group?.assets.items;
  useEffect(() => {
    if (loaded) dispatch({ type: 'loaded', assets: loaded });
  }, [loaded]);
  const [renamed, rename] = useMutation(RenameGroup);
  const [deleted, remove] = useMutation(DeleteGroup);

  if (group.data && !group.data.group) {
    return (
      <main>
        <h1>Group not found</h1>
        <p>
          This group does not exist for your key (it may have been deleted).{' '}
          <a href={hrefOf.groups}>Back to your groups</a>
        </p>
      </main>
    );
  }
  const info = group.data?.group;
  return (
    <main>
      <p>
        <a href={hrefOf.groups}>← All groups</a>
      </p>
      <h1>{info ? info.name : 'Group'}</h1>
      <ErrorNote error={group.error ?? renamed.error ?? deleted.error} />
      {info ? (
        <>
          <p className="muted">
            {info.kind === 'REAL' ? 'Real-person group' : 'Virtual group'} · <code>{info.id}</code>
            {info.description ? ` · ${info.description}` : ''}
          </p>
          <div className="actions">
            <RenameForm
              current={info.name}
              what={`group ${info.name}`}
              onRename={async (name) => !(await rename({ id: info.id, name })).error}
            />
            <ConfirmButton
              label="Delete group"
              question={
                <>
                  Delete the group <strong>{info.name}</strong> and every asset in it? This cannot
                  be undone.
                </>
              }
              onConfirm={async () => {
                if (!(await remove({ id: info.id })).error) location.hash = hrefOf.groups;
              }}
            />
          </div>
          <AddAssetsForm
            groupId={info.id}
            onAdded={(added) => dispatch({ type: 'added', assets: added })}
          />
        </>
      ) : null}
      <section aria-labelledby="assets-title">
        <h2 id="assets-title">Assets</h2>
        <p className="muted" role="status">
          {events.error
            ? 'Live updates are interrupted; reconnecting…'
            : events.data
              ? 'Live: statuses update by themselves.'
              : 'Connecting for live updates…'}
        </p>
        <ErrorNote error={events.error} />
        {info && assets.size === 0 ? (
          <p className="empty">
            <strong>No assets yet.</strong> Add the URL of an image, video or audio file above: it
            starts <em>Processing</em> and turns <em>Active</em> (usable as <code>asset://…</code>)
            or <em>Failed</em> here, live.
          </p>
        ) : null}
        {assets.size > 0 ? (
          <AssetTable
            assets={ordered(assets)}
            onDeleted={(assetId) => dispatch({ type: 'removed', id: assetId })}
            onRenamed={(assetId, name) => dispatch({ type: 'renamed', id: assetId, name })}
          />
        ) : null}
      </section>
    </main>
  );
}
