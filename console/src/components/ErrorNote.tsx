/** An error as words, with its code for support; announced to screen readers when it appears. */
import type { CombinedError } from 'urql';
import { explain, type Explained } from '../errors';

export function ErrorNote({ error }: { error: CombinedError | Explained | null | undefined }) {
  if (!error) return null;
  const { code, text, detail } = 'graphQLErrors' in error ? explain(error) : error;
  return (
    <p className="error" role="alert" data-code={code}>
      {text}
      {detail ? <span className="detail"> {detail}</span> : null}{' '}
      <code className="code">{code}</code>
    </p>
  );
}
