/**
 * A real-person verification: start it, show the H5 link as a QR code and as a link with the time
 * to open it before (the link lasts about two minutes) and the token's expiry (30 minutes), and
 * follow the status live (PENDING, then VERIFIED with the new group, FAILED, EXPIRED or USED).
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useSubscription } from 'urql';
import { ErrorNote } from '../components/ErrorNote';
import { QrCode } from '../components/QrCode';
import { explainCode } from '../errors';
import { graphql } from '../gql';
import { hrefOf } from '../route';

const StartVerification = graphql(`
  mutation ConsoleStartVerification($callbackUrl: String!) {
    startRealPersonVerification(callbackUrl: $callbackUrl) {
      token
      h5Link
      h5LinkExpiresAt
      expiresAt
    }
  }
`);

const VerificationEvents = graphql(`
  subscription ConsoleVerification($token: String!) {
    realPersonVerification(token: $token) {
      status
      group {
        id
        name
      }
    }
  }
`);

const STATUS_WORDS = {
  PENDING: 'Waiting for the person to finish the liveness check…',
  VERIFIED: 'Verified: the real-person group is ready.',
  FAILED: 'Failed: the person did not pass the liveness check.',
  EXPIRED: 'Expired: the token ran out of time before the check was done.',
  USED: explainCode('VERIFICATION_USED').text,
} as const;

export function VerifyPage() {
  const [callbackUrl, setCallbackUrl] = useState(`${location.origin}/${hrefOf.verified}`);
  const [started, start] = useMutation(StartVerification);
  const session = started.data?.startRealPersonVerification;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void start({ callbackUrl: callbackUrl.trim() });
  };
  return (
    <main>
      <h1>Verify a real person</h1>
      <p>
        A real-person group comes from a liveness check the person does on their phone. Start one,
        let them scan the code (or send them the link), and watch the result here.
      </p>
      <form className="row" onSubmit={submit}>
        <label>
          Where the phone goes when done (callback URL)
          <input
            type="url"
            required
            value={callbackUrl}
            onChange={(event) => setCallbackUrl(event.target.value)}
          />
        </label>
        <button type="submit" disabled={started.fetching}>
          {session ? 'Start another verification' : 'Start verification'}
        </button>
      </form>
      <ErrorNote error={started.error} />
      {session ? <Progress key={session.token} {...session} /> : null}
    </main>
  );
}

function Progress({
  token,
  h5Link,
  h5LinkExpiresAt,
  expiresAt,
}: {
  token: string;
  h5Link: string;
  h5LinkExpiresAt: string;
  expiresAt: string;
}) {
  const [events] = useSubscription({ query: VerificationEvents, variables: { token } });
  const event = events.data?.realPersonVerification;
  const status = event?.status ?? 'PENDING';
  return (
    <section aria-labelledby="session-title" className="verification">
      <h2 id="session-title">Scan with the person’s phone</h2>
      <div className="row">
        <QrCode text={h5Link} label="QR code of the liveness check link" />
        <div>
          <p>
            Or open the link:{' '}
            <a href={h5Link} target="_blank" rel="noreferrer" className="h5">
              {h5Link}
            </a>
          </p>
          <p className="deadline">
            Open the link before <Time value={h5LinkExpiresAt} className="link-expiry" />: after
            that it most likely no longer opens.
          </p>
          <p className="muted">
            The token can be exchanged until <Time value={expiresAt} className="token-expiry" />.
          </p>
          <p
            role="status"
            aria-live="polite"
            className={`progress ${status.toLowerCase()}`}
            data-status={status}
          >
            {STATUS_WORDS[status]}
          </p>
          {event?.group ? (
            <p>
              New group: <a href={hrefOf.group(event.group.id)}>{event.group.name}</a>
            </p>
          ) : null}
          <ErrorNote error={events.error} />
        </div>
      </div>
    </section>
  );
}

/** A moment as the reader's local time of day, with the exact instant in `dateTime`. */
function Time({ value, className }: { value: string; className: string }) {
  return (
    <time dateTime={value} className={className}>
      {new Date(value).toLocaleTimeString()}
    </time>
  );
}
