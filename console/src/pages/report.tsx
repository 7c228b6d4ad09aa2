/** One report: figures, the per-hour chart, breakdowns, files and the delivery log; re-send for admins. */
import { useState } from 'preact/hooks';
import { api, post } from '../api.js';
import { count, newKey, percent, when } from '../format.js';
import { can, type Session } from '../session.js';
import { ErrorText, Files, type ReportFile, Section, Status, useLoad } from '../ui.js';

interface LogEntry {
  at: string;
  type: string;
  attempt?: number;
  recipients?: string[];
  messageId?: string;
  event?: string;
  detail?: string;
  destination?: string;
}

export interface ReportDetail {
  id: string;
  status: string;
  createdAt: string;
  request: Record<string, unknown>;
  summary?: {
    validations?: number;
    failed?: number;
    highRisk?: number;
    passRates?: Record<string, number | null>;
  };
  error?: string;
  files?: ReportFile[];
  message?: string;
  deliveryLog?: {
    run: { status: string; attempts: number; mailMessageId?: string };
    entries: LogEntry[];
  } | null;
}

interface Count {
  key: string;
  count: number;
  share: number;
}
interface Party {
  id: string | null;
  name: string | null;
  count: number;
  failed: number;
}
interface Figures {
  timeZone: string;
  byHour: { hour: number; count: number; failed: number }[];
  byStatus: Count[];
  byType: Count[];
  byClient: Party[];
  byProject: Party[];
}

function HourChart({ hours, zone }: { hours: Figures['byHour']; zone: string }) {
  const max = Math.max(1, ...hours.map((h) => h.count));
  const busiest = hours.reduce(
    (a, b) => (b.count > a.count ? b : a),
    hours[0] ?? { hour: 0, count: 0, failed: 0 },
  );
  const w = 24 * 14;
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${w} 120`}
        role="img"
        aria-label={`Validations per hour (${zone}): busiest hour ${busiest.hour}:00 with ${busiest.count}; the failed part of each bar is dark.`}
      >
        {hours.map((h) => {
          const total = (h.count / max) * 100;
          const failed = (h.failed / max) * 100;
          return (
            <g key={h.hour}>
              <rect class="bar" x={h.hour * 14 + 1} y={105 - total} width={12} height={total} />
              <rect class="bar-failed" x={h.hour * 14 + 1} y={105 - failed} width={12} height={failed} />
              {h.hour % 3 === 0 ? (
                <text x={h.hour * 14 + 7} y={118} text-anchor="middle">
                  {h.hour}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>Validations per hour, {zone}; dark: failed.</figcaption>
    </figure>
  );
}

function CountTable({ title, rows }: { title: string; rows: Count[] }) {
  return (
    <table>
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">Value</th>
          <th scope="col">Validations</th>
          <th scope="col">Share</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <td>{r.key}</td>
            <td>{count(r.count)}</td>
            <td>{percent(r.share)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A party's name, or its id when it has none. Two parties of one name (projects called the same
 * under different clients) get the end of their id too, so the rows can be told apart.
 */
function partyLabel(r: Party, rows: readonly Party[]): string {
  if (!r.name) return r.id ?? '(none)';
  const shared = rows.filter((x) => x.name === r.name).length > 1;
  return shared && r.id ? `${r.name} (…${r.id.slice(-6)})` : r.name;
}

/** The checks' readable names, as the workbook's columns and the mail name them. */
const CHECK_NAMES: Record<string, string> = {
  livenessDetection: 'Liveness detection',
  identityMatch: 'Identity match',
  antiSpoofing: 'Anti-spoofing',
};

function PartyTable({ title, rows }: { title: string; rows: Party[] }) {
  return (
    <table>
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Validations</th>
          <th scope="col">Failed</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id ?? 'none'}>
            <td>{partyLabel(r, rows)}</td>
            <td>{count(r.count)}</td>
            <td>{count(r.failed)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Resend({ id }: { id: string }) {
  const [to, setTo] = useState('');
  const [key] = useState(newKey);
  const [result, setResult] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          const recipients = to
            .split(/[\s,;]+/)
            .map((s) => s.trim())
            .filter(Boolean);
          const r = await post<{ status: string }>(
            `/reports/${encodeURIComponent(id)}/resend`,
            recipients.length > 0 ? { to: recipients } : undefined,
            { 'idempotency-key': key },
          );
          setResult(
            r.status === 'sent'
              ? 'Sent again. It appears in the delivery log below.'
              : r.status === 'duplicate'
                ? 'Already re-sent with this request: nothing was sent twice.'
                : 'SES did not answer: the mail may or may not have gone. Check the delivery log before trying again.',
          );
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for="resend-to">Re-send to (leave empty for the report’s own recipients)</label>
      <input id="resend-to" type="text" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      <ErrorText error={error} />
      {result ? <p role="status">{result}</p> : null}
      <button type="submit" disabled={busy}>
        Re-send report
      </button>
    </form>
  );
}

export function ReportPage({ id, session }: { id: string; session: Session }) {
  const { value: r, error } = useLoad(() => api<ReportDetail>(`/reports/${encodeURIComponent(id)}`), [id]);
  const { value: figures } = useLoad(
    () =>
      r?.status === 'complete'
        ? api<Figures>(`/reports/${encodeURIComponent(id)}/summary`).catch(() => undefined)
        : Promise.resolve(undefined),
    [r?.status, id],
  );
  const req = (r?.request ?? {}) as { definition?: string; from?: string; to?: string; timeZone?: string };
  const label = `${req.definition ?? 'on-demand'} ${req.from ?? ''}${req.to && req.to !== req.from ? ` – ${req.to}` : ''}`;
  return (
    <>
      <h1 tabIndex={-1}>Report {r ? label : id}</h1>
      <ErrorText error={error} />
      {r ? (
        <>
          <p>
            <Status status={r.status} /> {req.timeZone} · asked {when(r.createdAt)} · <code>{r.id}</code>
          </p>
          {r.error ? (
            <p class="error" role="alert">
              This report failed: {r.error}
            </p>
          ) : null}
          <Section title="Figures">
            <dl class="figures">
              <div>
                <dt>Validations</dt>
                <dd>{count(r.summary?.validations)}</dd>
              </div>
              <div>
                <dt>Failed</dt>
                <dd>{count(r.summary?.failed)}</dd>
              </div>
              <div>
                <dt>High risk</dt>
                <dd>{count(r.summary?.highRisk)}</dd>
              </div>
              {Object.entries(r.summary?.passRates ?? {}).map(([k, v]) => (
                <div key={k}>
                  <dt>{CHECK_NAMES[k] ?? k} passed</dt>
                  <dd>{percent(v)}</dd>
                </div>
              ))}
            </dl>
            {figures ? <HourChart hours={figures.byHour} zone={figures.timeZone} /> : null}
          </Section>
          <Section title="Files">
            {r.files ? <Files files={r.files} label={label} /> : <p>{r.message ?? 'No files yet.'}</p>}
          </Section>
          {figures ? (
            <Section title="Breakdowns">
              <div class="grid scroll">
                <CountTable title="By status" rows={figures.byStatus} />
                <CountTable title="By type" rows={figures.byType} />
                <PartyTable title="By client (top 10)" rows={figures.byClient} />
                <PartyTable title="By project (top 10)" rows={figures.byProject} />
              </div>
            </Section>
          ) : null}
          <Section title="Delivery log">
            {r.deliveryLog ? (
              <>
                <p>
                  Mail: <Status status={r.deliveryLog.run.status} /> after {r.deliveryLog.run.attempts}{' '}
                  attempt(s)
                  {r.deliveryLog.run.mailMessageId ? (
                    <>
                      , message id <code>{r.deliveryLog.run.mailMessageId}</code>
                    </>
                  ) : null}
                </p>
                <div class="scroll">
                  <table class="log">
                    <caption class="sr-only">Delivery log</caption>
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">What</th>
                        <th scope="col">Recipients</th>
                        <th scope="col">Message id</th>
                        <th scope="col">Detail</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.deliveryLog.entries.map((e, i) => (
                        <tr key={`${e.at}-${i}`}>
                          <td>{when(e.at)}</td>
                          <td>
                            {e.type}
                            {e.event ? ` ${e.event}` : ''}
                            {e.attempt ? ` (attempt ${e.attempt})` : ''}
                          </td>
                          <td>{e.recipients?.join(', ') ?? ''}</td>
                          <td>{e.messageId ? <code>{e.messageId}</code> : ''}</td>
                          <td>{e.detail ?? e.destination ?? ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            ) : (
              <p>Nothing sent for this report yet.</p>
            )}
          </Section>
          {can(session, 'admins') && r.status === 'complete' ? (
            <Section title="Re-send">
              <Resend id={r.id} />
            </Section>
          ) : null}
        </>
      ) : null}
    </>
  );
}
