/**
 * The report mails, rendered as pure functions: subject, HTML and plain text from figures that
 * were already computed. No I/O here, so the templates are tested on their output directly.
 *
 * HTML rules for mail clients: tables and inline styles only (no <style> blocks some clients
 * strip, no scripts, no remote images), and every value that comes from data is escaped — a
 * client name is whatever a Verifik customer typed.
 *
 * Personal data: report mails carry aggregate figures and client (organisation) names only,
 * never identifiers, IP addresses or record ids; the highest-risk list stays in the files.
 */

import { CHECK_KEYS, CHECK_LABELS } from '../../report/columns.js';
import type { Change, Summary, SummaryDelta } from '../../report/summary.js';
import { escapeHtml } from '../../util/html-escape.js';

export interface MailWindow {
  from: string;
  to: string;
  timeZone: string;
}

export interface MailLink {
  name: string;
  url: string;
  bytes: number;
}

/** What happened to the files: all attached (and linked), or linked only because they did not fit. */
export interface AttachmentDecision {
  mode: 'attached' | 'links-only';
  /** Base64-encoded size of all files together, as it would travel in the message. */
  encodedBytes: number;
  budgetBytes: number;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export interface ReportMailInput {
  definition: string;
  window: MailWindow;
  summary: Summary;
  delta: SummaryDelta | null;
  links: MailLink[];
  attachments: AttachmentDecision;
  /** When the links in this mail stop working. */
  linksExpireAt: Date;
  generatedAt: Date;
  reportId: string;
}

const TOP_CLIENTS = 5;
const CHART_HEIGHT_PX = 96;

// ---------------------------------------------------------------------------------------------
// Formatting

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return integer.format(n);
}

/** 0.0712 → "7.1%"; null → "n/a" (no validation had the value). */
export function formatRate(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return 'n/a';
  return `${(rate * 100).toFixed(1)}%`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "2024-12-01" or "2024-12-01 to 2024-12-07". */
export function formatDays(window: MailWindow): string {
  return window.from === window.to ? window.from : `${window.from} to ${window.to}`;
}

/** Header-safe: no line breaks can reach the subject line. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').trim();
}

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function signed(n: number, digits = 0): string {
  const s = digits === 0 ? formatCount(Math.abs(n)) : Math.abs(n).toFixed(digits);
  return n > 0 ? `+${s}` : n < 0 ? `−${s}` : '±0';
}

// ---------------------------------------------------------------------------------------------
// Figures shared by the HTML and text bodies, so both always say the same thing

interface DeltaLine {
  label: string;
  current: string;
  previous: string;
  change: string;
}

interface Figures {
  headline: { label: string; value: string }[];
  statuses: { key: string; count: string; share: string }[];
  checks: { label: string; passed: string; failed: string; missing: string; passRate: string }[];
  clients: { name: string; count: string; failed: string; highRisk: string }[];
  moreClients: number;
  hours: { hour: number; count: number }[];
  deltas: DeltaLine[];
}

function clientLabel(c: { id: string | null; name: string | null }): string {
  return c.name ?? c.id ?? '(no client)';
}

function countDelta(label: string, c: Change): DeltaLine | null {
  if (c.current === null || c.previous === null || c.delta === null) return null;
  const rel = c.relative === null ? '' : ` (${signed(c.relative * 100, 1)}%)`;
  return {
    label,
    current: formatCount(c.current),
    previous: formatCount(c.previous),
    change: `${signed(c.delta)}${rel}`,
  };
}

function rateDelta(label: string, c: Change): DeltaLine | null {
  if (c.current === null || c.previous === null || c.delta === null) return null;
  return {
    label,
    current: formatRate(c.current),
    previous: formatRate(c.previous),
    change: `${signed(c.delta * 100, 1)} pts`,
  };
}

function figuresOf(summary: Summary, delta: SummaryDelta | null): Figures {
  const t = summary.totals;
  const headline = [
    { label: 'Validations', value: formatCount(t.validations) },
    {
      label: 'Failed (status or a failed check)',
      value: `${formatCount(t.failed)} (${formatRate(share(t.failed, t.validations))})`,
    },
    { label: `High risk (score ≥ ${summary.risk.thresholds.high})`, value: formatCount(t.highRisk) },
  ];
  const statuses = summary.byStatus.map((s) => ({
    key: s.key,
    count: formatCount(s.count),
    share: formatRate(s.share),
  }));
  const checks = CHECK_KEYS.map((key) => {
    const c = summary.checks[key];
    return {
      label: CHECK_LABELS[key],
      passed: formatCount(c.passed),
      failed: formatCount(c.failed),
      missing: formatCount(c.missing),
      passRate: formatRate(c.passRate),
    };
  });
  const clients = summary.byClient.slice(0, TOP_CLIENTS).map((c) => ({
    name: clientLabel(c),
    count: formatCount(c.count),
    failed: formatCount(c.failed),
    highRisk: formatCount(c.highRisk),
  }));
  const hours = Array.from({ length: 24 }, (_, hour) => ({
    hour,
    count: summary.byHour.find((h) => h.hour === hour)?.count ?? 0,
  }));
  const deltas: DeltaLine[] = [];
  if (delta) {
    const lines = [
      countDelta('Validations', delta.validations),
      countDelta('Failed', delta.failed),
      countDelta('High risk', delta.highRisk),
      ...delta.byStatus.map((s) => countDelta(`Status ${s.key}`, s)),
      ...CHECK_KEYS.map((key) => rateDelta(`${CHECK_LABELS[key]} pass rate`, delta.passRates[key])),
    ];
    for (const l of lines) if (l) deltas.push(l);
  }
  return {
    headline,
    statuses,
    checks,
    clients,
    moreClients: Math.max(0, summary.byClient.length - TOP_CLIENTS),
    hours,
    deltas,
  };
}

// ---------------------------------------------------------------------------------------------
// Subjects

function subjectPrefix(definition: string, window: MailWindow): string {
  return oneLine(`[${definition}] ${formatDays(window)} (${window.timeZone})`);
}

export function reportSubject(definition: string, window: MailWindow, summary: Summary): string {
  const t = summary.totals;
  return oneLine(
    `${subjectPrefix(definition, window)}: ${formatCount(t.validations)} validations, ` +
      `${formatCount(t.failed)} failed (${formatRate(share(t.failed, t.validations))}), ` +
      `${formatCount(t.highRisk)} high-risk`,
  );
}

// ---------------------------------------------------------------------------------------------
// HTML building blocks (inline styles only)

const FONT = 'font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1f2933;';
const CELL = 'padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:left;';
const NUM = 'padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap;';
const HEAD = 'padding:4px 10px;border-bottom:2px solid #9aa5b1;text-align:left;font-weight:600;';

function table(headers: string[], rows: string[][], numericFrom = 1): string {
  const head = headers
    .map(
      (h, i) => `<th style="${i >= numericFrom ? `${HEAD}text-align:right;` : HEAD}">${escapeHtml(h)}</th>`,
    )
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((v, i) => `<td style="${i >= numericFrom ? NUM : CELL}">${escapeHtml(v)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const headRow = headers.some((h) => h !== '') ? `<tr>${head}</tr>\n` : '';
  return `<table role="presentation" cellspacing="0" cellpadding="0" style="border-collapse:collapse;margin:4px 0 16px 0;${FONT}font-size:14px;">${headRow}${body}</table>`;
}

function section(title: string, inner: string): string {
  return `<h2 style="${FONT}font-size:16px;margin:20px 0 6px 0;">${escapeHtml(title)}</h2>\n${inner}`;
}

/** Bar heights in whole pixels, proportional to the busiest hour; a non-empty hour is never invisible. */
export function barHeights(counts: readonly number[], maxPx = CHART_HEIGHT_PX): number[] {
  const max = Math.max(0, ...counts);
  return counts.map((c) => (max === 0 || c <= 0 ? 0 : Math.max(1, Math.round((c / max) * maxPx))));
}

/**
 * Validations per hour as a table of 24 bottom-aligned cells whose inner cell's height is the
 * bar. Table cells with explicit heights render in Outlook, Gmail and Apple Mail alike, where
 * CSS flex or images would not.
 */
function hourChart(hours: { hour: number; count: number }[], timeZone: string): string {
  const heights = barHeights(hours.map((h) => h.count));
  const bars = hours
    .map((h, i) => {
      const px = heights[i] ?? 0;
      const bar =
        px === 0
          ? ''
          : `<table role="presentation" cellspacing="0" cellpadding="0" width="100%"><tr><td class="bar" height="${px}" style="height:${px}px;background:#3e6fd8;font-size:0;line-height:0;">&nbsp;</td></tr></table>`;
      return `<td data-hour="${h.hour}" data-count="${h.count}" data-height="${px}" title="${String(h.hour).padStart(2, '0')}:00 — ${escapeHtml(formatCount(h.count))}" valign="bottom" style="vertical-align:bottom;width:16px;height:${CHART_HEIGHT_PX}px;padding:0 1px;">${bar}</td>`;
    })
    .join('');
  const labels = hours
    .map(
      (h) =>
        `<td style="${FONT}font-size:9px;color:#7b8794;text-align:center;padding:2px 0 0 0;">${h.hour % 3 === 0 ? String(h.hour).padStart(2, '0') : ''}</td>`,
    )
    .join('');
  const peak = Math.max(0, ...hours.map((h) => h.count));
  return `<table role="presentation" cellspacing="0" cellpadding="0" data-chart="validations-per-hour" style="border-collapse:collapse;margin:4px 0 4px 0;border-bottom:1px solid #9aa5b1;"><tr>${bars}</tr><tr>${labels}</tr></table>
<p style="${FONT}font-size:12px;color:#52606d;margin:0 0 16px 0;">Hour of day in ${escapeHtml(timeZone)}; busiest hour: ${escapeHtml(formatCount(peak))} validations.</p>`;
}

function page(title: string, inner: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:16px;background:#ffffff;${FONT}">
${inner}
</body></html>
`;
}

function filesSentence(decision: AttachmentDecision): string {
  return decision.mode === 'attached'
    ? 'The files are attached to this mail and can also be downloaded with the links below.'
    : `The files are NOT attached: together they are ${formatBytes(decision.encodedBytes)} encoded, over this mail's ${formatBytes(decision.budgetBytes)} attachment budget. Download them with the links below.`;
}

function linksExpiry(at: Date): string {
  return `Links work until ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC.`;
}

// ---------------------------------------------------------------------------------------------
// The report mail

export function renderReportMail(input: ReportMailInput): RenderedMail {
  const { summary, window } = input;
  const f = figuresOf(summary, input.delta);
  const subject = reportSubject(input.definition, window, summary);
  const title = `${input.definition}: ${formatDays(window)} (${window.timeZone})`;

  const headline = `<table role="presentation" cellspacing="0" cellpadding="0" style="margin:8px 0 12px 0;"><tr>${f.headline
    .map(
      (h) =>
        `<td style="padding:8px 20px 8px 0;${FONT}"><div style="font-size:12px;color:#52606d;">${escapeHtml(h.label)}</div><div style="font-size:24px;font-weight:700;">${escapeHtml(h.value)}</div></td>`,
    )
    .join('')}</tr></table>`;

  const parts: string[] = [
    `<h1 style="${FONT}font-size:20px;margin:0 0 4px 0;">${escapeHtml(title)}</h1>`,
    `<p style="${FONT}font-size:13px;color:#52606d;margin:0;">Report ${escapeHtml(input.reportId)}, generated ${escapeHtml(input.generatedAt.toISOString())}.</p>`,
    headline,
  ];
  if (f.deltas.length > 0) {
    parts.push(
      section(
        'What changed vs the previous report',
        table(
          ['Figure', 'Now', 'Previous', 'Change'],
          f.deltas.map((d) => [d.label, d.current, d.previous, d.change]),
        ),
      ),
    );
  }
  parts.push(
    section(
      'Status',
      table(
        ['Status', 'Validations', 'Share'],
        f.statuses.map((s) => [s.key, s.count, s.share]),
      ),
    ),
    section(
      'Checks',
      table(
        ['Check', 'Passed', 'Failed', 'Missing', 'Pass rate'],
        f.checks.map((c) => [c.label, c.passed, c.failed, c.missing, c.passRate]),
      ),
    ),
    section(
      'Top clients',
      table(
        ['Client', 'Validations', 'Failed', 'High risk'],
        f.clients.map((c) => [c.name, c.count, c.failed, c.highRisk]),
      ) +
        (f.moreClients > 0
          ? `<p style="${FONT}font-size:12px;color:#52606d;margin:0 0 12px 0;">and ${escapeHtml(formatCount(f.moreClients))} more clients in the files.</p>`
          : ''),
    ),
    section('Validations per hour', hourChart(f.hours, window.timeZone)),
    section(
      'Files',
      `<p style="${FONT}font-size:14px;margin:0 0 8px 0;">${escapeHtml(filesSentence(input.attachments))}</p>
<ul style="${FONT}font-size:14px;margin:0 0 8px 0;padding-left:20px;">${input.links
        .map(
          (l) =>
            `<li style="margin:2px 0;"><a href="${escapeHtml(l.url)}" style="color:#1f5fbf;">${escapeHtml(l.name)}</a> (${escapeHtml(formatBytes(l.bytes))}${input.attachments.mode === 'attached' ? ', attached' : ', link only'})</li>`,
        )
        .join('\n')}</ul>
<p style="${FONT}font-size:12px;color:#52606d;margin:0;">${escapeHtml(linksExpiry(input.linksExpireAt))} The files contain personal data: do not forward them outside your organisation.</p>`,
    ),
  );
  const html = page(subject, parts.join('\n'));

  const text: string[] = [
    title,
    `Report ${input.reportId}, generated ${input.generatedAt.toISOString()}.`,
    '',
    ...f.headline.map((h) => `${h.label}: ${h.value}`),
  ];
  if (f.deltas.length > 0) {
    text.push('', 'WHAT CHANGED VS THE PREVIOUS REPORT');
    for (const d of f.deltas) text.push(`  ${d.label}: ${d.current} (previous ${d.previous}, ${d.change})`);
  }
  text.push('', 'STATUS');
  for (const s of f.statuses) text.push(`  ${s.key}: ${s.count} (${s.share})`);
  text.push('', 'CHECKS');
  for (const c of f.checks) {
    text.push(
      `  ${c.label}: pass rate ${c.passRate} (passed ${c.passed}, failed ${c.failed}, missing ${c.missing})`,
    );
  }
  text.push('', 'TOP CLIENTS');
  for (const c of f.clients)
    text.push(`  ${c.name}: ${c.count} validations, ${c.failed} failed, ${c.highRisk} high risk`);
  if (f.moreClients > 0) text.push(`  and ${formatCount(f.moreClients)} more clients in the files.`);
  text.push('', `VALIDATIONS PER HOUR (${window.timeZone})`);
  const textBars = barHeights(
    f.hours.map((h) => h.count),
    40,
  );
  for (const [i, h] of f.hours.entries()) {
    text.push(
      `  ${String(h.hour).padStart(2, '0')}:00 ${formatCount(h.count).padStart(7)} ${'#'.repeat(textBars[i] ?? 0)}`,
    );
  }
  text.push('', 'FILES', `  ${filesSentence(input.attachments)}`);
  for (const l of input.links) text.push(`  ${l.name} (${formatBytes(l.bytes)}): ${l.url}`);
  text.push(
    '',
    linksExpiry(input.linksExpireAt),
    'The files contain personal data: do not forward them outside your organisation.',
  );

  return { subject, html, text: `${text.join('\n')}\n` };
}

// ---------------------------------------------------------------------------------------------
// "No validations" mail

export interface EmptyMailInput {
  definition: string;
  window: MailWindow;
  filters: { statuses: string[]; types: string[]; clients: string[] };
  generatedAt: Date;
  reportId: string;
}

function describeFilters(filters: EmptyMailInput['filters']): string {
  const parts: string[] = [];
  if (filters.statuses.length > 0) parts.push(`status ${filters.statuses.join(', ')}`);
  if (filters.types.length > 0) parts.push(`type ${filters.types.join(', ')}`);
  if (filters.clients.length > 0) parts.push(`client ${filters.clients.join(', ')}`);
  return parts.length === 0 ? 'all validations' : parts.join('; ');
}

export function renderEmptyMail(input: EmptyMailInput): RenderedMail {
  const days = formatDays(input.window);
  const subject = oneLine(`${subjectPrefix(input.definition, input.window)}: no validations`);
  const sentence = `There were no validations on ${days} (${input.window.timeZone}) matching this report (${describeFilters(input.filters)}).`;
  const note =
    'The report ran and completed normally; there is nothing to attach. If you expected validations, check that the Verifik integration is sending them.';
  const html = page(
    subject,
    `<h1 style="${FONT}font-size:20px;margin:0 0 8px 0;">${escapeHtml(`No validations on ${days}`)}</h1>
<p style="${FONT}font-size:14px;">${escapeHtml(sentence)}</p>
<p style="${FONT}font-size:13px;color:#52606d;">${escapeHtml(note)}</p>
<p style="${FONT}font-size:12px;color:#52606d;">Report ${escapeHtml(input.reportId)}, generated ${escapeHtml(input.generatedAt.toISOString())}.</p>`,
  );
  const text = `No validations on ${days}\n\n${sentence}\n\n${note}\n\nReport ${input.reportId}, generated ${input.generatedAt.toISOString()}.\n`;
  return { subject, html, text };
}

// ---------------------------------------------------------------------------------------------
// Failure mail to the owners

export interface FailureReason {
  /** A short class of failure, e.g. "Verifik rejected the token". */
  title: string;
  /** What went wrong, free of personal data (see mail-failure.ts). */
  detail: string;
  /** What the owner should do about it. */
  action: string;
}

export interface FailureMailInput {
  definition: string;
  window: MailWindow;
  reason: FailureReason;
  reportId: string;
  occurredAt: Date;
  /** Whether the scheduler will retry on its own. */
  willRetry: boolean;
}

export function renderFailureMail(input: FailureMailInput): RenderedMail {
  const days = formatDays(input.window);
  const subject = oneLine(
    `${subjectPrefix(input.definition, input.window)}: report FAILED — ${input.reason.title}`,
  );
  const retry = input.willRetry
    ? 'The scheduler retries the run automatically; you get the report mail as soon as a retry succeeds.'
    : 'No automatic retry is pending: run the report again once the cause is fixed.';
  const rows: [string, string][] = [
    ['Report', input.definition],
    ['Day', `${days} (${input.window.timeZone})`],
    ['What happened', input.reason.detail],
    ['What to do', input.reason.action],
    ['Run', input.reportId],
    ['When', input.occurredAt.toISOString()],
  ];
  const html = page(
    subject,
    `<h1 style="${FONT}font-size:20px;margin:0 0 8px 0;color:#ab091e;">${escapeHtml(`The ${input.definition} report for ${days} failed`)}</h1>
<p style="${FONT}font-size:14px;">${escapeHtml(input.reason.title)}.</p>
${table(['', ''], rows, 2)}
<p style="${FONT}font-size:13px;">${escapeHtml(retry)}</p>
<p style="${FONT}font-size:12px;color:#52606d;">You receive this because you own this report definition. This mail deliberately contains no data from the validations.</p>`,
  );
  const text = `The ${input.definition} report for ${days} failed\n\n${input.reason.title}.\n\n${rows
    .map(([k, v]) => `${k}: ${v}`)
    .join(
      '\n',
    )}\n\n${retry}\n\nYou receive this because you own this report definition. This mail deliberately contains no data from the validations.\n`;
  return { subject, html, text };
}
