/**
 * The failure mail to a report's owners: what failed and what to do, deliberately without any
 * data from the validations.
 */

import { escapeHtml } from '../../util/html-escape.js';
import {
  FONT,
  formatDays,
  type MailWindow,
  oneLine,
  page,
  type RenderedMail,
  subjectPrefix,
  table,
} from './html.js';

export interface FailureReason {
  /** A short class of failure, e.g. "Verifik rejected the token". */
  title: string;
  /** What went wrong, free of personal data (see failure-reason.ts). */
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
