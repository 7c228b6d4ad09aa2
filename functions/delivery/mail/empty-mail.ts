/**
 * The "no validations" mail: the report ran and found nothing to report, which is itself news
 * worth telling (a silent day could also mean a broken integration).
 */

import { escapeHtml } from '../../util/html-escape.js';
import { alertHtml, alertSubject, alertText } from './alert.js';
import {
  FONT,
  formatDays,
  type MailWindow,
  oneLine,
  page,
  type RenderedMail,
  subjectPrefix,
} from './html.js';

export interface EmptyMailInput {
  definition: string;
  window: MailWindow;
  filters: { statuses: string[]; types: string[]; clients: string[]; projects?: string[] | undefined };
  generatedAt: Date;
  reportId: string;
  /** The conditions that held, when the definition sends this report as an alert. */
  alert?: readonly string[] | undefined;
}

function describeFilters(filters: EmptyMailInput['filters']): string {
  const parts: string[] = [];
  if (filters.statuses.length > 0) parts.push(`status ${filters.statuses.join(', ')}`);
  if (filters.types.length > 0) parts.push(`type ${filters.types.join(', ')}`);
  if (filters.clients.length > 0) parts.push(`client ${filters.clients.join(', ')}`);
  if (filters.projects && filters.projects.length > 0) parts.push(`project ${filters.projects.join(', ')}`);
  return parts.length === 0 ? 'all validations' : parts.join('; ');
}

export function renderEmptyMail(input: EmptyMailInput): RenderedMail {
  const days = formatDays(input.window);
  const plain = oneLine(`${subjectPrefix(input.definition, input.window)}: no validations`);
  const subject = input.alert ? alertSubject(plain) : plain;
  const sentence = `There were no validations on ${days} (${input.window.timeZone}) matching this report (${describeFilters(input.filters)}).`;
  const note =
    'The report ran and completed normally; there is nothing to attach. If you expected validations, check that the Verifik integration is sending them.';
  const html = page(
    subject,
    `${input.alert ? alertHtml(input.alert) : ''}<h1 style="${FONT}font-size:20px;margin:0 0 8px 0;">${escapeHtml(`No validations on ${days}`)}</h1>
<p style="${FONT}font-size:14px;">${escapeHtml(sentence)}</p>
<p style="${FONT}font-size:13px;color:#52606d;">${escapeHtml(note)}</p>
<p style="${FONT}font-size:12px;color:#52606d;">Report ${escapeHtml(input.reportId)}, generated ${escapeHtml(input.generatedAt.toISOString())}.</p>`,
  );
  const text = `${input.alert ? `${alertText(input.alert).join('\n')}\n` : ''}No validations on ${days}\n\n${sentence}\n\n${note}\n\nReport ${input.reportId}, generated ${input.generatedAt.toISOString()}.\n`;
  return { subject, html, text };
}
