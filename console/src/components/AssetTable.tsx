/** A group's assets: preview, name, type, status (live), failure reason, URI to copy. */
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { LiveAsset } from '../live-assets';
import { ConfirmButton } from './ConfirmButton';
import { CopyButton } from './CopyButton';
import { ErrorNote } from './ErrorNote';
import { RenameForm } from './RenameForm';

const RenameAsset = graphql(`
  mutation ConsoleRenameAsset($id: ID!, $name: String!) {
    renameAsset(id: $id, name: $name) {
      id
      name
    }
  }
`);

const DeleteAsset = graphql(`
  mutation ConsoleDeleteAsset($id: ID!) {
    deleteAsset(id: $id)
  }
`);

const STATUS_WORDS = { PROCESSING: 'Processing', ACTIVE: 'Active', FAILED: 'Failed' } as const;
const TYPE_WORDS = { IMAGE: 'Image', VIDEO: 'Video', AUDIO: 'Audio' } as const;

export interface AssetTableProps {
  assets: LiveAsset[];
  onDeleted: (id: string) => void;
  onRenamed: (id: string, name: string | null) => void;
}

export function AssetTable({ assets, onDeleted, onRenamed }: AssetTableProps) {
  const [renamed, rename] = useMutation(RenameAsset);
  const [deleted, remove] = useMutation(DeleteAsset);
  return (
    <>
      <ErrorNote error={renamed.error ?? deleted.error} />
      <div className="scroll-x">
        <table className="assets">
          <thead>
            <tr>
              <th scope="col">Preview</th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">URI</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {assets.map((asset) => {
              const label = asset.name ?? asset.id;
              return (
                <tr key={asset.id} data-asset-id={asset.id} data-status={asset.status}>
                  <td>
                    {asset.type === 'IMAGE' && asset.previewUrl ? (
                      <img
                        className="preview"
                        src={asset.previewUrl}
                        alt={`Preview of ${label}`}
                        width={64}
                        height={64}
                      />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{asset.name ?? <span className="muted">(no name)</span>}</td>
                  <td>{TYPE_WORDS[asset.type]}</td>
                  <td>
                    <span className={`badge ${asset.status.toLowerCase()}`}>
                      {STATUS_WORDS[asset.status]}
                    </span>
                    {asset.failure ? (
                      <div className="reason">
                        {asset.failure.message} <code>{asset.failure.code}</code>
                      </div>
                    ) : null}
                    {asset.stale ? (
                      <div className="stale">
                        Stale: cannot confirm since{' '}
                        {asset.stale.since ? new Date(asset.stale.since).toLocaleTimeString() : '—'}{' '}
                        ({asset.stale.reason ?? 'unknown'})
                      </div>
                    ) : null}
                  </td>
                  <td>
                    {asset.status === 'FAILED' ? (
                      <span className="muted">not usable: the asset failed</span>
                    ) : asset.uri === null ? (
                      'assigned when the review ends'
                    ) : asset.status === 'ACTIVE' ? (
                      <>
                        <code className="uri">{asset.uri}</code>{' '}
                        <CopyButton value={asset.uri} label={`Copy URI of ${label}`} />
                      </>
                    ) : (
                      <>
                        <code className="uri">{asset.uri}</code>{' '}
                        <span className="muted">usable once Active</span>
                      </>
                    )}
                  </td>
                  <td className="actions">
                    <RenameForm
                      current={asset.name ?? ''}
                      what={`asset ${label}`}
                      onRename={async (name) => {
                        const result = await rename({ id: asset.id, name });
                        if (result.data) onRenamed(asset.id, result.data.renameAsset.name ?? null);
                        return !result.error;
                      }}
                    />
                    <ConfirmButton
                      label="Delete"
                      ariaLabel={`Delete asset ${label}`}
                      question={
                        <>
                          Delete the asset <strong>{label}</strong>? This cannot be undone.
                        </>
                      }
                      onConfirm={async () => {
                        if (!(await remove({ id: asset.id })).error) onDeleted(asset.id);
                      }}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
