/**
 * What every mail template shares: the rendered shape, number and day formatting, the subject
 * prefix, and the HTML building blocks.
 *
 * HTML rules for mail clients: tables and inline styles only (no <style> blocks some clients
 * strip, no scripts, no remote images), and every value that comes from data is escaped — a
 * client name is whatever a Verifik customer typed.
 */

import { escapeHtml } from '../../util/html-escape.js';

export interface MailWindow {
  from: string;
  to: string;
  timeZone: string;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

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

/**
 * C0 and C1 control characters (ESC, CR, LF, tab, DEL, CSI …) and the Unicode line and paragraph
 * separators: in a plain-text part they could forge lines (a `Bcc:`-looking line) or carry
 * terminal escape sequences, and nothing a report shows needs them.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** A value from outside (a client name, a status) as plain text: every run of control characters becomes one space. */
export function plainText(value: string): string {
  return value.replace(CONTROLS, ' ');
}

/** Header-safe: no line breaks (or other control characters) can reach the subject line. */
export function oneLine(value: string): string {
  return plainText(value).trim();
}

export function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function signed(n: number, digits = 0): string {
  const s = digits === 0 ? formatCount(Math.abs(n)) : Math.abs(n).toFixed(digits);
  return n > 0 ? `+${s}` : n < 0 ? `−${s}` : '±0';
}

export function subjectPrefix(definition: string, window: MailWindow): string {
  return oneLine(`[${definition}] ${formatDays(window)} (${window.timeZone})`);
}

// ---------------------------------------------------------------------------------------------
// HTML building blocks (inline styles only)

export const FONT = 'font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1f2933;';
const CELL = 'padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:left;';
const NUM = 'padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap;';
const HEAD = 'padding:4px 10px;border-bottom:2px solid #9aa5b1;text-align:left;font-weight:600;';

export function table(headers: string[], rows: string[][], numericFrom = 1): string {
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

export function section(title: string, inner: string): string {
  return `<h2 style="${FONT}font-size:16px;margin:20px 0 6px 0;">${escapeHtml(title)}</h2>\n${inner}`;
}

export function page(title: string, inner: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:16px;background:#ffffff;${FONT}">
${inner}
</body></html>
`;
}
