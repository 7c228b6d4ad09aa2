/**
 * Request a report: day or range, zone, statuses, types, client, formats, who to mail; then live
 * progress until the files are ready. What is typed is kept as a draft (this tab only), so a
 * session that ends mid-form comes back to it after signing in again.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, post } from '../api.js';
import { yesterday } from '../format.js';
import { can, draft, dropDraft, keepDraft, type Session } from '../session.js';
import { ErrorText, Files, type ReportFile, Status } from '../ui.js';

const STATUSES = ['new', 'sent', 'pending', 'validated', 'completed', 'failed', 'expired', 'under_review'];
const TYPES = ['validation', 'login', 'onboarding', 'oneTimeLink', 'liveness'];
const FORMATS = ['xlsx', 'csv'];

interface Form {
  mode: 'day' | 'range';
  date: string;
  from: string;
  to: string;
  timeZone: string;
  statuses: string[];
  types: string[];
  client: string;
  formats: string[];
  notify: string;
}

const fresh = (): Form => ({
  mode: 'day',
  date: yesterday(),
  from: yesterday(),
  to: yesterday(),
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  statuses: [],
  types: [],
  client: '',
  formats: ['xlsx', 'csv'],
  notify: '',
});

interface Progress {
  id: string;
  status: string;
  files?: ReportFile[];
  error?: string;
  slices?: { done: number; total: number };
}

function Checks(props: {
  legend: string;
  name: string;
  options: string[];
  value: string[];
  set: (v: string[]) => void;
}) {
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      <div class="checks">
        {props.options.map((o) => (
          <label key={o} class="check">
            <input
              type="checkbox"
              name={props.name}
              value={o}
              checked={props.value.includes(o)}
              onChange={(e) =>
                props.set(e.currentTarget.checked ? [...props.value, o] : props.value.filter((v) => v !== o))
              }
            />{' '}
            {o}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function RequestPage({ session }: { session: Session }) {
  const [form, setForm] = useState<Form>(() => draft<Form>('request') ?? fresh());
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Progress | undefined>(() => draft<Progress>('request-progress'));
  const set = (patch: Partial<Form>) => {
    const next = { ...form, ...patch };
    keepDraft('request', next);
    setForm(next);
  };

  // Poll the report until it is complete or failed (the worker runs asynchronously).
  useEffect(() => {
    if (!progress || progress.status === 'complete' || progress.status === 'failed') return;
    const timer = setTimeout(async () => {
      try {
        const r = await api<Progress>(`/reports/${encodeURIComponent(progress.id)}`);
        const next = { ...r, id: progress.id };
        keepDraft('request-progress', next);
        setProgress(next);
      } catch (err) {
        setError(err);
      }
    }, 1000);
    return () => clearTimeout(timer);
  }, [progress]);

  if (!can(session, 'requesters'))
    return (
      <>
        <h1 tabIndex={-1}>Request a report</h1>
        <p>
          Your account can see reports but not ask for them: ask an admin to add you to the requesters group.
        </p>
      </>
    );

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const notify = form.notify
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      const body = {
        ...(form.mode === 'day' ? { date: form.date } : { from: form.from, to: form.to }),
        timeZone: form.timeZone.trim(),
        ...(form.statuses.length ? { statuses: form.statuses } : {}),
        ...(form.types.length ? { types: form.types } : {}),
        ...(form.client.trim() ? { client: form.client.trim() } : {}),
        formats: form.formats,
        ...(notify.length ? { notify } : {}),
      };
      const r = await post<{ id: string; status: string }>('/reports', body);
      const next = { id: r.id, status: r.status };
      keepDraft('request-progress', next);
      dropDraft('request');
      setProgress(next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const done = progress?.status === 'complete' || progress?.status === 'failed';
  return (
    <>
      <h1 tabIndex={-1}>Request a report</h1>
      <form onSubmit={submit} class="card request" noValidate>
        <fieldset>
          <legend>Period</legend>
          <label class="check">
            <input
              type="radio"
              name="mode"
              checked={form.mode === 'day'}
              onChange={() => set({ mode: 'day' })}
            />{' '}
            One day
          </label>
          <label class="check">
            <input
              type="radio"
              name="mode"
              checked={form.mode === 'range'}
              onChange={() => set({ mode: 'range' })}
            />{' '}
            A range of days
          </label>
          {form.mode === 'day' ? (
            <div>
              <label for="date">Day</label>
              <input
                id="date"
                type="date"
                value={form.date}
                onInput={(e) => set({ date: e.currentTarget.value })}
              />
            </div>
          ) : (
            <div class="pair">
              <div>
                <label for="from">From</label>
                <input
                  id="from"
                  type="date"
                  value={form.from}
                  onInput={(e) => set({ from: e.currentTarget.value })}
                />
              </div>
              <div>
                <label for="to">To (inclusive)</label>
                <input
                  id="to"
                  type="date"
                  value={form.to}
                  onInput={(e) => set({ to: e.currentTarget.value })}
                />
              </div>
            </div>
          )}
        </fieldset>
        <label for="zone">Time zone (IANA, e.g. America/Bogota)</label>
        <input
          id="zone"
          type="text"
          value={form.timeZone}
          onInput={(e) => set({ timeZone: e.currentTarget.value })}
        />
        <Checks
          legend="Statuses (none: all)"
          name="status"
          options={STATUSES}
          value={form.statuses}
          set={(v) => set({ statuses: v })}
        />
        <Checks
          legend="Types (none: all)"
          name="type"
          options={TYPES}
          value={form.types}
          set={(v) => set({ types: v })}
        />
        <label for="client">Client id (optional)</label>
        <input
          id="client"
          type="text"
          value={form.client}
          onInput={(e) => set({ client: e.currentTarget.value })}
        />
        <Checks
          legend="Formats"
          name="format"
          options={FORMATS}
          value={form.formats}
          set={(v) => set({ formats: v })}
        />
        <label for="notify">Mail the report to (optional; addresses in the allowed domains)</label>
        <input
          id="notify"
          type="text"
          value={form.notify}
          onInput={(e) => set({ notify: e.currentTarget.value })}
        />
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Asking…' : 'Request report'}
        </button>
      </form>
      {progress ? (
        <section class="card" aria-label="Progress">
          <h2>Progress</h2>
          <p role="status" aria-live="polite" class="progress">
            Report <code>{progress.id}</code>: <Status status={progress.status} />
            {progress.slices ? ` (${progress.slices.done} of ${progress.slices.total} parts done)` : ''}
            {done ? '' : ' — this page updates by itself.'}
          </p>
          {progress.status === 'failed' ? (
            <p class="error" role="alert">
              The report failed: {progress.error ?? 'no reason recorded'}. Change the request or try again
              later.
            </p>
          ) : null}
          {progress.status === 'complete' ? (
            <>
              <Files files={progress.files ?? []} label="the requested report" />
              <p>
                <a href={`#/report/${encodeURIComponent(progress.id)}`}>Open the report</a>
              </p>
            </>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
