/** Definitions: schedule in its zone, next run, last report, paused or not; pause/resume/backfill for admins. */
import { useState } from 'preact/hooks';
import { api, post } from '../api.js';
import { daysAgo, newKey, when, yesterday } from '../format.js';
import { can, type Session } from '../session.js';
import { ErrorText, Status, useLoad } from '../ui.js';

interface Definition {
  name: string;
  cadence: string;
  schedule: { hour: number; minute: number; timeZone: string };
  recipients: number;
  paused: boolean;
  pausedOrResumedAt?: string;
  nextRun: { at: string; reportsOn: string };
}

const RECENT_DAYS = 3;

interface Listed {
  id: string;
  status: string;
  request: { definition?: string };
}

function Backfill({ name }: { name: string }) {
  const [from, setFrom] = useState(yesterday());
  const [to, setTo] = useState(yesterday());
  const [key] = useState(newKey);
  const [result, setResult] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  return (
    <form
      class="inline"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        try {
          const r = await post<{ days: { day: string; action: string; reason?: string }[] }>(
            `/definitions/${encodeURIComponent(name)}/backfill`,
            { from, to },
            { 'idempotency-key': key },
          );
          setResult(r.days.map((d) => `${d.day}: ${d.action}${d.reason ? ` (${d.reason})` : ''}`).join('; '));
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label for={`bf-from-${name}`}>From</label>
      <input
        id={`bf-from-${name}`}
        type="date"
        value={from}
        onInput={(e) => setFrom(e.currentTarget.value)}
      />
      <label for={`bf-to-${name}`}>To</label>
      <input id={`bf-to-${name}`} type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      <button type="submit">Backfill {name}</button>
      <ErrorText error={error} />
      {result ? <p role="status">{result}</p> : null}
    </form>
  );
}

export function DefinitionsPage({ session }: { session: Session }) {
  const admin = can(session, 'admins');
  const [error, setError] = useState<unknown>();
  const {
    value,
    error: loadError,
    reload,
  } = useLoad(async () => {
    // Report days are in each definition's zone, which may be a day off the browser's: look at the
    // last RECENT_DAYS days, oldest first, so the newest report of each definition comes last.
    const [defs, ...days] = await Promise.all([
      api<{ definitions: Definition[] }>('/definitions'),
      ...Array.from({ length: RECENT_DAYS }, (_, i) =>
        api<{ reports: Listed[] }>(`/reports?date=${daysAgo(RECENT_DAYS - 1 - i)}`),
      ),
    ]);
    return { definitions: defs.definitions, recent: days.flatMap((d) => d.reports) };
  }, []);

  async function toggle(d: Definition) {
    setError(undefined);
    try {
      await post(`/definitions/${encodeURIComponent(d.name)}/${d.paused ? 'resume' : 'pause'}`);
      reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <h1 tabIndex={-1}>Definitions</h1>
      <ErrorText error={loadError ?? error} />
      {value?.definitions.map((d) => {
        const last = [...value.recent].reverse().find((r) => r.request.definition === d.name);
        const hhmm = `${String(d.schedule.hour).padStart(2, '0')}:${String(d.schedule.minute).padStart(2, '0')}`;
        return (
          <section class="card" key={d.name} aria-label={`Definition ${d.name}`}>
            <h2>
              {d.name} {d.paused ? <span class="status status-paused">paused</span> : null}
            </h2>
            <dl class="facts">
              <dt>Schedule</dt>
              <dd>
                {d.cadence} at {hhmm} {d.schedule.timeZone}
              </dd>
              <dt>Next run</dt>
              <dd>
                {when(d.nextRun.at)} (reports on {d.nextRun.reportsOn})
                {d.paused ? ': it will skip while paused' : ''}
              </dd>
              <dt>Last report (last {RECENT_DAYS} days)</dt>
              <dd>
                {last ? (
                  <a href={`#/report/${encodeURIComponent(last.id)}`}>
                    <Status status={last.status} />
                  </a>
                ) : (
                  'none'
                )}
              </dd>
              <dt>Recipients</dt>
              <dd>{d.recipients}</dd>
            </dl>
            {admin ? (
              <div class="actions">
                <button type="button" onClick={() => toggle(d)}>
                  {d.paused ? `Resume ${d.name}` : `Pause ${d.name}`}
                </button>
                <Backfill name={d.name} />
              </div>
            ) : null}
          </section>
        );
      })}
    </>
  );
}
