/** Reports by day and definition: status, headline figures, files with sizes and download buttons. */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { count, percent, yesterday } from '../format.js';
import { ErrorText, Files, type ReportFile, Status, useLoad } from '../ui.js';

interface Listed {
  id: string;
  status: string;
  createdAt: string;
  request: { definition?: string; from?: string; to?: string; timeZone?: string };
  summary?: { validations?: number; failed?: number; highRisk?: number };
}

interface Detail {
  files?: ReportFile[];
  message?: string;
}

export function ReportsPage({ date }: { date?: string | undefined }) {
  const day = date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : yesterday();
  const [picked, setPicked] = useState(day);
  const { value, error, loading } = useLoad(async () => {
    const list = await api<{ reports: Listed[] }>(`/reports?date=${day}`);
    // The list carries no files: ask each complete report for its files and fresh links.
    const details = await Promise.all(
      list.reports.map((r) =>
        r.status === 'complete' ? api<Detail>(`/reports/${encodeURIComponent(r.id)}`) : Promise.resolve({}),
      ),
    );
    return list.reports.map((r, i) => ({ ...r, detail: details[i] as Detail }));
  }, [day]);

  const byDefinition = new Map<string, NonNullable<typeof value>>();
  for (const r of value ?? []) {
    const name = r.request.definition ?? 'on-demand';
    byDefinition.set(name, [...(byDefinition.get(name) ?? []), r]);
  }

  return (
    <>
      <h1 tabIndex={-1}>Reports of {day}</h1>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = `#/reports/${picked}`;
        }}
      >
        <label for="day">Day</label>
        <input id="day" type="date" value={picked} onInput={(e) => setPicked(e.currentTarget.value)} />
        <button type="submit">Show</button>
      </form>
      <ErrorText error={error} />
      {loading && !value ? <p role="status">Loading the reports…</p> : null}
      {value && value.length === 0 ? (
        <p>No reports start on {day}. Pick another day, or request one.</p>
      ) : null}
      {[...byDefinition].map(([definition, reports]) => (
        <section class="card" key={definition} aria-label={`Definition ${definition}`}>
          <h2>{definition}</h2>
          <div class="scroll">
            <table class="stack">
              <caption class="sr-only">
                Reports of {definition} on {day}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Report</th>
                  <th scope="col">Status</th>
                  <th scope="col">Validations</th>
                  <th scope="col">Failed</th>
                  <th scope="col">High risk</th>
                  <th scope="col">Files</th>
                </tr>
              </thead>
              <tbody>
                {reports.map((r) => {
                  const s = r.summary ?? {};
                  const period =
                    r.request.from === r.request.to ? r.request.from : `${r.request.from} – ${r.request.to}`;
                  return (
                    <tr key={r.id}>
                      <td data-label="Report">
                        <a href={`#/report/${encodeURIComponent(r.id)}`}>{period}</a>
                        <div class="muted small">{r.request.timeZone}</div>
                      </td>
                      <td data-label="Status">
                        <Status status={r.status} />
                      </td>
                      <td data-label="Validations">{count(s.validations)}</td>
                      <td data-label="Failed">
                        {count(s.failed)}
                        {s.validations ? (
                          <span class="muted small"> ({percent((s.failed ?? 0) / s.validations)})</span>
                        ) : null}
                      </td>
                      <td data-label="High risk">{count(s.highRisk)}</td>
                      <td data-label="Files">
                        {r.detail.files ? (
                          <Files files={r.detail.files} label={`${definition} ${period}`} />
                        ) : (
                          <span class="muted">{r.detail.message ?? '–'}</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}
