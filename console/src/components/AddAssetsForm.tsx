/**
 * Adds a batch of assets by URL (up to 20). Each item is reported on its own: the ones created
 * leave the form, the ones that failed stay with their reason beside them, to fix and resend.
 */
import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { explainCode } from '../errors';
import { graphql } from '../gql';
import type { AssetType } from '../gql/graphql';
import type { LiveAsset } from '../live-assets';
import { ErrorNote } from './ErrorNote';

const AddAssets = graphql(`
  mutation ConsoleAddAssets($groupId: ID!, $assets: [NewAssetInput!]!) {
    addAssets(groupId: $groupId, assets: $assets) {
      assets {
        ...ConsoleAsset
      }
      failures {
        index
        code
        message
        upstreamCode
      }
    }
  }
`);

const MAX_ITEMS = 20;

interface Row {
  key: number;
  url: string;
  type: AssetType;
  name: string;
  failure?: { code: string; message: string; upstreamCode?: string | null };
}

let nextKey = 1;
const emptyRow = (): Row => ({ key: nextKey++, url: '', type: 'IMAGE', name: '' });

export interface AddAssetsFormProps {
  groupId: string;
  onAdded: (assets: LiveAsset[]) => void;
}

export function AddAssetsForm({ groupId, onAdded }: AddAssetsFormProps) {
  const [rows, setRows] = useState<Row[]>(() => [emptyRow()]);
  const [result, add] = useMutation(AddAssets);
  const [added, setAdded] = useState<number | null>(null);
  const titleId = useId();
  const update = (key: number, patch: Partial<Row>) =>
    setRows((all) => all.map((row) => (row.key === key ? { ...row, ...patch } : row)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const sent = rows.filter((row) => row.url.trim() !== '');
    if (sent.length === 0) return;
    const response = await add({
      groupId,
      assets: sent.map((row) => ({
        url: row.url.trim(),
        type: row.type,
        ...(row.name.trim() ? { name: row.name.trim() } : {}),
      })),
    });
    const payload = response.data?.addAssets;
    if (!payload) return;
    onAdded(payload.assets);
    setAdded(payload.assets.length);
    const failed = new Map(payload.failures.map((failure) => [failure.index, failure]));
    const left = sent.flatMap((row, index) => {
      const failure = failed.get(index);
      return failure ? [{ ...row, failure }] : [];
    });
    setRows(left.length > 0 ? left : [emptyRow()]);
  };

  return (
    <section aria-labelledby={titleId}>
      <h2 id={titleId}>Add assets by URL</h2>
      <p className="muted">
        Public http(s) URLs the asset service downloads from; up to {MAX_ITEMS} at once.
      </p>
      <form onSubmit={submit}>
        <ol className="batch">
          {rows.map((row, index) => (
            <li key={row.key} className={row.failure ? 'failed' : undefined}>
              <label>
                URL of item {index + 1}
                <input
                  type="url"
                  value={row.url}
                  required={index === 0}
                  placeholder="https://cdn.example.com/front.jpg"
                  onChange={(event) =>
                    update(row.key, { url: event.target.value, failure: undefined })
                  }
                />
              </label>
              <label>
                Type of item {index + 1}
                <select
                  value={row.type}
                  onChange={(event) => update(row.key, { type: event.target.value as AssetType })}
                >
                  <option value="IMAGE">Image</option>
                  <option value="VIDEO">Video</option>
                  <option value="AUDIO">Audio</option>
                </select>
              </label>
              <label>
                Name of item {index + 1} (optional)
                <input
                  value={row.name}
                  maxLength={64}
                  onChange={(event) => update(row.key, { name: event.target.value })}
                />
              </label>
              {rows.length > 1 ? (
                <button
                  type="button"
                  aria-label={`Remove item ${index + 1}`}
                  onClick={() => setRows((all) => all.filter((other) => other.key !== row.key))}
                >
                  Remove
                </button>
              ) : null}
              {row.failure ? (
                <p className="error item-failure" role="alert" data-code={row.failure.code}>
                  Not added: {explainCode(row.failure.code).text} {row.failure.message}{' '}
                  <code>{row.failure.upstreamCode ?? row.failure.code}</code>
                </p>
              ) : null}
            </li>
          ))}
        </ol>
        <div className="actions">
          <button
            type="button"
            disabled={rows.length >= MAX_ITEMS}
            onClick={() => setRows((all) => [...all, emptyRow()])}
          >
            Add another URL
          </button>
          <button type="submit" disabled={result.fetching}>
            Add assets
          </button>
        </div>
      </form>
      <ErrorNote error={result.error} />
      {added !== null && !result.error ? (
        <p role="status">
          {added === 1 ? '1 asset added' : `${added} assets added`}; watch their status below.
        </p>
      ) : null}
    </section>
  );
}
