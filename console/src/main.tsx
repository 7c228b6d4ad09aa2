/**
 * The reports console: a single page (Preact, hash routes) over the reports API's /console routes.
 * Pages: reports by day, a report, request a report, definitions, security (MFA); a health strip
 * on top. Sign-in is Cognito's, in cognito.ts.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, whenSessionEnds } from './api.js';
import { signOut } from './cognito.js';
import { loadConfig } from './config.js';
import { count, when } from './format.js';
import { DefinitionsPage } from './pages/definitions.js';
import { ReportPage } from './pages/report.js';
import { ReportsPage } from './pages/reports.js';
import { RequestPage } from './pages/request.js';
import { SecurityPage } from './pages/security.js';
import { SignInPage } from './pages/signin.js';
import { can, loadSession, type Session, saveSession } from './session.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/reports');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/reports');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

interface Health {
  verifikToken: { renewedAt?: string; daysLeftAbout?: number; nextRenewalAt?: string } | null;
  failures: { id: string; date: string; definition: string; error?: string }[];
  failureWindowDays: number;
}

function HealthStrip({ session }: { session: Session }) {
  const [health, setHealth] = useState<Health | undefined>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    api<Health>('/health').then(setHealth, () => setFailed(true));
  }, [session.accessToken]);
  if (failed) return <p class="health muted">The health of the reports could not be read.</p>;
  if (!health) return <p class="health muted">Checking the health of the reports…</p>;
  const t = health.verifikToken;
  const low = t?.daysLeftAbout !== undefined && t.daysLeftAbout <= 7;
  return (
    <section class="health" aria-label="Health">
      <p class={low ? 'warn' : ''}>
        <strong>Verifik token:</strong>{' '}
        {t?.daysLeftAbout !== undefined
          ? `renewed ${when(t.renewedAt)}, about ${t.daysLeftAbout} days left${low ? ': renewals are failing, tell the owners' : ''}.`
          : 'no renewal recorded yet.'}
      </p>
      <p class={health.failures.length > 0 ? 'warn' : ''}>
        <strong>Failures, last {health.failureWindowDays} days:</strong>{' '}
        {health.failures.length === 0
          ? 'none.'
          : health.failures.map((f, i) => (
              <span key={f.id}>
                {i > 0 ? ', ' : ''}
                <a href={`#/report/${encodeURIComponent(f.id)}`}>
                  {f.definition} {f.date}
                </a>
              </span>
            ))}
        {health.failures.length > 0 ? ` (${count(health.failures.length)})` : ''}
      </p>
    </section>
  );
}

const NAV: { href: string; label: string; match: RegExp }[] = [
  { href: '#/reports', label: 'Reports', match: /^#\/reports?\b/ },
  { href: '#/request', label: 'Request a report', match: /^#\/request/ },
  { href: '#/definitions', label: 'Definitions', match: /^#\/definitions/ },
  { href: '#/security', label: 'Security', match: /^#\/security/ },
];

function App() {
  const hash = useHash();
  const [session, setSession] = useState<Session | undefined>(loadSession());
  const [notice, setNotice] = useState<string | undefined>();
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    whenSessionEnds(() => {
      setSession(undefined);
      setNotice('Your session has ended. Sign in again: what you typed is kept.');
    });
  }, []);
  // Move focus to the page's heading on every page change, for keyboard and screen-reader users.
  useEffect(() => {
    main.current?.querySelector('h1')?.focus();
  }, [hash, session?.accessToken]);

  if (!session) {
    return (
      <main id="main" ref={main}>
        <SignInPage
          notice={notice}
          onSignedIn={(s) => {
            saveSession(s);
            setNotice(undefined);
            setSession(s);
          }}
        />
      </main>
    );
  }

  const [, page = 'reports', arg] = /^#\/([a-z]+)\/?(.*)$/.exec(hash) ?? [];
  let content: preact.JSX.Element;
  if (page === 'report' && arg) content = <ReportPage id={decodeURIComponent(arg)} session={session} />;
  else if (page === 'request') content = <RequestPage session={session} />;
  else if (page === 'definitions') content = <DefinitionsPage session={session} />;
  else if (page === 'security') content = <SecurityPage session={session} />;
  else content = <ReportsPage date={arg || undefined} />;

  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.querySelector('h1')?.focus()}>
        Skip to the page
      </button>
      <header class="top">
        <p class="brand">Verifik reports</p>
        <nav aria-label="Pages">
          <ul>
            {NAV.filter((n) => n.href !== '#/request' || can(session, 'requesters')).map((n) => (
              <li key={n.href}>
                <a href={n.href} aria-current={n.match.test(hash) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who">
          {session.email} ({session.groups.join(', ') || 'no group'}){' '}
          <button
            type="button"
            class="link"
            onClick={async () => {
              await signOut(session.accessToken);
              saveSession(undefined);
              setSession(undefined);
            }}
          >
            Sign out
          </button>
        </p>
      </header>
      <HealthStrip session={session} />
      <main id="main" ref={main}>
        {content}
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
loadConfig().then(
  () => {
    root.textContent = ''; // the "Loading…" line: render() adds to a container, it does not replace it
    render(<App />, root);
  },
  (err: Error) => {
    root.textContent = err.message;
  },
);
