/** Sign-in: e-mail and password, then the authenticator code or a first password when Cognito asks. */
import { useState } from 'preact/hooks';
import { answerChallenge, type SignInStep, signIn } from '../cognito.js';
import { type Session, sessionFrom } from '../session.js';
import { ErrorText } from '../ui.js';

export function SignInPage({ notice, onSignedIn }: { notice?: string; onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [answer, setAnswer] = useState('');
  const [pending, setPending] = useState<Exclude<SignInStep, { kind: 'done' }> | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const step = pending
        ? await answerChallenge(pending.kind, pending.session, email.trim(), answer.trim())
        : await signIn(email.trim(), password);
      if (step.kind === 'done') onSignedIn(sessionFrom(email.trim(), step.tokens));
      else {
        setPending(step);
        setAnswer('');
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="signin card">
      <h1 tabIndex={-1}>Sign in to Verifik reports</h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        {!pending ? (
          <>
            <label for="email">E-mail address</label>
            <input
              id="email"
              type="email"
              autocomplete="username"
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
            <label for="password">Password</label>
            <input
              id="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </>
        ) : pending.kind === 'mfa' ? (
          <>
            <label for="code">Code from your authenticator app</label>
            <input
              id="code"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6}"
              required
              value={answer}
              onInput={(e) => setAnswer(e.currentTarget.value)}
            />
          </>
        ) : (
          <>
            <p>
              Choose your own password (at least 12 characters, upper- and lower-case letters, digits and a
              symbol).
            </p>
            <label for="new-password">New password</label>
            <input
              id="new-password"
              type="password"
              autocomplete="new-password"
              required
              value={answer}
              onInput={(e) => setAnswer(e.currentTarget.value)}
            />
          </>
        )}
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {busy
            ? 'Signing in…'
            : pending?.kind === 'mfa'
              ? 'Verify code'
              : pending
                ? 'Set password'
                : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
