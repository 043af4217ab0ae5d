/** Asks once for the API key (simulator: any) or gateway token; the tab keeps it. */
import { useState, type FormEvent } from 'react';

export function SignIn({ onSignIn }: { onSignIn: (credential: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const credential = value.trim();
    if (credential) onSignIn(credential);
  };
  return (
    <main className="signin">
      <h1>avatar-gateway console</h1>
      <p>
        Enter the key you call the gateway with: your upstream API key, or the gateway token you
        were given. On the built-in simulator any key works, and each key sees its own data.
      </p>
      <form onSubmit={submit}>
        <label htmlFor="credential">API key or gateway token</label>
        <input
          id="credential"
          type="password"
          autoComplete="off"
          required
          value={value}
          onChange={(event) => setValue(event.target.value)}
        />
        <button type="submit">Sign in</button>
      </form>
      <p className="hint">It is kept in this tab only, and forgotten when you close it.</p>
    </main>
  );
}
