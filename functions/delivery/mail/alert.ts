/**
 * The alert form of a report mail (a definition's `sendIf` with `whenMet: "alert"`): the subject
 * says ALERT first, so it stands out in a list of daily reports, and the conditions that held
 * come before any figure, in the sentences the condition evaluator wrote.
 */
import { escapeHtml } from '../../util/html-escape.js';
import { FONT, oneLine } from './html.js';

export function alertSubject(subject: string): string {
  return oneLine(`ALERT: ${subject}`);
}

export function alertHtml(reasons: readonly string[]): string {
  const items = reasons.map((r) => `<li style="margin:2px 0;">${escapeHtml(r)}</li>`).join('');
  return `<div role="alert" style="${FONT}border:2px solid #b42318;background:#fef3f2;color:#7a271a;padding:10px 14px;margin:0 0 14px 0;">
<p style="${FONT}font-size:15px;font-weight:700;margin:0 0 4px 0;">Alert: this report's conditions held</p>
<ul style="${FONT}font-size:14px;margin:0;padding-left:20px;">${items}</ul></div>`;
}

export function alertText(reasons: readonly string[]): string[] {
  return ["ALERT: this report's conditions held", ...reasons.map((r) => `  - ${r}`), ''];
}
