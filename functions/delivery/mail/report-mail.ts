/**
 * The report mail: headline figures, what changed since the previous report, status, checks,
 * top clients, validations per hour, and the files (attached or linked).
 *
 * Personal data: report mails carry aggregate figures and client (organisation) names only,
 * never identifiers, IP addresses or record ids; the highest-risk list stays in the files.
 */

import type { Summary, SummaryDelta } from '../../report/summary.js';
import { escapeHtml } from '../../util/html-escape.js';
import { alertHtml, alertSubject, alertText } from './alert.js';
import {
  FONT,
  formatBytes,
  formatCount,
  formatDays,
  formatRate,
  type MailWindow,
  oneLine,
  page,
  type RenderedMail,
  section,
  share,
  subjectPrefix,
  table,
} from './html.js';
import { figuresOf } from './report-figures.js';

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
  /** The conditions that held, when the definition sends this report as an alert. */
  alert?: readonly string[] | undefined;
}

const CHART_HEIGHT_PX = 96;

export function reportSubject(definition: string, window: MailWindow, summary: Summary): string {
  const t = summary.totals;
  return oneLine(
    `${subjectPrefix(definition, window)}: ${formatCount(t.validations)} validations, ` +
      `${formatCount(t.failed)} failed (${formatRate(share(t.failed, t.validations))}), ` +
      `${formatCount(t.highRisk)} high-risk`,
  );
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

function filesSentence(decision: AttachmentDecision): string {
  return decision.mode === 'attached'
    ? 'The files are attached to this mail and can also be downloaded with the links below.'
    : `The files are NOT attached: together they are ${formatBytes(decision.encodedBytes)} encoded, over this mail's ${formatBytes(decision.budgetBytes)} attachment budget. Download them with the links below.`;
}

function linksExpiry(at: Date): string {
  return `Links work until ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC.`;
}

export function renderReportMail(input: ReportMailInput): RenderedMail {
  const { summary, window } = input;
  const f = figuresOf(summary, input.delta);
  const plain = reportSubject(input.definition, window, summary);
  const subject = input.alert ? alertSubject(plain) : plain;
  const title = `${input.definition}: ${formatDays(window)} (${window.timeZone})`;

  const headline = `<table role="presentation" cellspacing="0" cellpadding="0" style="margin:8px 0 12px 0;"><tr>${f.headline
    .map(
      (h) =>
        `<td style="padding:8px 20px 8px 0;${FONT}"><div style="font-size:12px;color:#52606d;">${escapeHtml(h.label)}</div><div style="font-size:24px;font-weight:700;">${escapeHtml(h.value)}</div></td>`,
    )
    .join('')}</tr></table>`;

  const parts: string[] = [
    ...(input.alert ? [alertHtml(input.alert)] : []),
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
    ...(input.alert ? alertText(input.alert) : []),
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
