/**
 * Security: set up an authenticator app (TOTP). Required for admins: the API refuses their
 * actions until their account has MFA, and from then on every sign-in asks for a code.
 */
import { useState } from 'preact/hooks';
import { finishTotp, startTotp } from '../cognito.js';
import { can, type Session } from '../session.js';
import { ErrorText } from '../ui.js';

export function SecurityPage({ session }: { session: Session }) {
  const [secret, setSecret] = useState<string | undefined>();
  const [code, setCode] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>();
  const uri = secret
    ? `otpauth://totp/Verifik%20reports:${encodeURIComponent(session.email)}?secret=${secret}&issuer=Verifik%20reports`
    : '';
  return (
    <>
      <h1 tabIndex={-1}>Security</h1>
      <section class="card" aria-label="Authenticator app">
        <h2>Authenticator app (MFA)</h2>
        <p>
          {can(session, 'admins')
            ? 'Admin actions (re-send, backfill, pause, resume) need it.'
            : 'Optional for your account, and recommended.'}
        </p>
        {done ? (
          <p role="status">
            Done: from your next sign-in, the console asks for a code from the app. Sign out and in again now.
          </p>
        ) : !secret ? (
          <button
            type="button"
            onClick={async () => {
              setError(undefined);
              try {
                setSecret(await startTotp(session.accessToken));
              } catch (err) {
                setError(err);
              }
            }}
          >
            Set up an authenticator app
          </button>
        ) : (
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              setError(undefined);
              try {
                await finishTotp(session.accessToken, code.trim());
                setDone(true);
              } catch (err) {
                setError(err);
              }
            }}
          >
            <p>
              Add this key to your authenticator app (or open the link on your phone):{' '}
              <code class="secret">{secret}</code> <a href={uri}>open in the app</a>
            </p>
            <label for="totp">The code the app shows now</label>
            <input
              id="totp"
              inputMode="numeric"
              autocomplete="one-time-code"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
            <button type="submit">Turn on</button>
          </form>
        )}
        <ErrorText error={error} />
      </section>
    </>
  );
}
