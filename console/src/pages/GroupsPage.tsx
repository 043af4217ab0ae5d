/** Groups: filter by name and kind, page through, create, rename, delete. */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorNote } from '../components/ErrorNote';
import { RenameForm } from '../components/RenameForm';
import { graphql } from '../gql';
import type { AvatarKind } from '../gql/graphql';
import { hrefOf } from '../route';

const PAGE_SIZE = 10;

const GroupsQuery = graphql(`
  query ConsoleGroups($filter: GroupFilter, $page: Int!, $pageSize: Int!) {
    groups(filter: $filter, page: $page, pageSize: $pageSize) {
      total
      page
      hasNextPage
      items {
        id
        name
        kind
        description
        createdAt
      }
    }
  }
`);

const CreateGroup = graphql(`
  mutation ConsoleCreateGroup($input: CreateGroupInput!) {
    createGroup(input: $input) {
      id
      name
    }
  }
`);

export const RenameGroup = graphql(`
  mutation ConsoleRenameGroup($id: ID!, $name: String!) {
    updateGroup(id: $id, input: { name: $name }) {
      id
      name
    }
  }
`);

export const DeleteGroup = graphql(`
  mutation ConsoleDeleteGroup($id: ID!) {
    deleteGroup(id: $id)
  }
`);

export function GroupsPage() {
  const [nameContains, setNameContains] = useState('');
  const [kind, setKind] = useState<AvatarKind | ''>('');
  const [page, setPage] = useState(1);
  const filter = {
    ...(nameContains.trim() ? { nameContains: nameContains.trim() } : {}),
    ...(kind ? { kind } : {}),
  };
  const [groups, refetch] = useQuery({
    query: GroupsQuery,
    variables: { filter, page, pageSize: PAGE_SIZE },
  });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const [renamed, rename] = useMutation(RenameGroup);
  const [deleted, remove] = useMutation(DeleteGroup);
  const data = groups.data?.groups;
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;
  const filtered = Object.keys(filter).length > 0;

  return (
    <main>
      <h1>Groups</h1>
      <CreateGroupForm onCreated={reload} />
      <section aria-labelledby="list-title">
        <h2 id="list-title">Your groups</h2>
        <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
          <label>
            Name contains
            <input
              type="search"
              value={nameContains}
              maxLength={64}
              onChange={(event) => {
                setNameContains(event.target.value);
                setPage(1);
              }}
            />
          </label>
          <label>
            Kind
            <select
              value={kind}
              onChange={(event) => {
                setKind(event.target.value as AvatarKind | '');
                setPage(1);
              }}
            >
              <option value="">All</option>
              <option value="VIRTUAL">Virtual</option>
              <option value="REAL">Real person</option>
            </select>
          </label>
        </form>
        <ErrorNote error={groups.error ?? renamed.error ?? deleted.error} />
        {data && data.items.length === 0 && !filtered ? (
          <div className="empty">
            <p>
              <strong>No groups yet.</strong> Create a virtual group above to hold images, videos or
              audio of a character, or <a href={hrefOf.verify}>verify a real person</a> to get a
              real-person group.
            </p>
          </div>
        ) : null}
        {data && data.items.length === 0 && filtered ? (
          <p className="empty">No group matches these filters.</p>
        ) : null}
        {data && data.items.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((group) => (
                <tr key={group.id}>
                  <td>
                    <a href={hrefOf.group(group.id)}>{group.name}</a>
                    {group.description ? <div className="muted">{group.description}</div> : null}
                  </td>
                  <td>{group.kind === 'REAL' ? 'Real person' : 'Virtual'}</td>
                  <td>{group.createdAt ? new Date(group.createdAt).toLocaleString() : '—'}</td>
                  <td className="actions">
                    <RenameForm
                      current={group.name}
                      what={`group ${group.name}`}
                      onRename={async (name) => !(await rename({ id: group.id, name })).error}
                    />
                    <ConfirmButton
                      label="Delete"
                      ariaLabel={`Delete group ${group.name}`}
                      question={
                        <>
                          Delete the group <strong>{group.name}</strong> and every asset in it? This
                          cannot be undone.
                        </>
                      }
                      onConfirm={async () => {
                        if (!(await remove({ id: group.id })).error) reload();
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {data && data.total > PAGE_SIZE ? (
          <nav className="pager" aria-label="Pages of groups">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous page
            </button>
            <span>
              Page {data.page} of {pages} ({data.total} groups)
            </span>
            <button type="button" disabled={!data.hasNextPage} onClick={() => setPage(page + 1)}>
              Next page
            </button>
          </nav>
        ) : null}
      </section>
    </main>
  );
}

function CreateGroupForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [created, create] = useMutation(CreateGroup);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = {
      name: name.trim(),
      ...(description.trim() ? { description: description.trim() } : {}),
    };
    const result = await create({ input });
    if (result.error) return;
    setName('');
    setDescription('');
    onCreated();
  };
  return (
    <section aria-labelledby="create-title">
      <h2 id="create-title">Create a virtual group</h2>
      <form className="row" onSubmit={submit}>
        <label>
          Name
          <input
            value={name}
            required
            maxLength={64}
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <label>
          Description (optional)
          <input
            value={description}
            maxLength={300}
            onChange={(event) => setDescription(event.target.value)}
          />
        </label>
        <button type="submit" disabled={created.fetching}>
          Create group
        </button>
      </form>
      <ErrorNote error={created.error} />
      {created.data && !created.error ? (
        <p role="status">
          Created{' '}
          <a href={hrefOf.group(created.data.createGroup.id)}>{created.data.createGroup.name}</a>.
        </p>
      ) : null}
    </section>
  );
}
