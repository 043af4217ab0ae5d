/** An inline rename: a button that turns into a labelled text field with Save and Cancel. */
import { useState, type FormEvent } from 'react';

export interface RenameFormProps {
  current: string;
  /** What is renamed, for labels: "group mascot". */
  what: string;
  onRename: (name: string) => Promise<boolean>;
}

export function RenameForm({ current, what, onRename }: RenameFormProps) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(current);
  const [busy, setBusy] = useState(false);
  if (!editing) {
    return (
      <button
        type="button"
        aria-label={`Rename ${what}`}
        onClick={() => {
          setName(current);
          setEditing(true);
        }}
      >
        Rename
      </button>
    );
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const done = await onRename(name.trim());
    setBusy(false);
    if (done) setEditing(false);
  };
  return (
    <form className="inline" onSubmit={submit}>
      <label>
        <span className="visually-hidden">New name of {what}</span>
        <input
          value={name}
          required
          maxLength={64}
          autoFocus
          onChange={(event) => setName(event.target.value)}
        />
      </label>
      <button type="submit" disabled={busy}>
        Save
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}
