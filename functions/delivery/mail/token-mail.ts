/**
 * The mail to the owners when the Verifik token is close to expiry (or past it): the automatic
 * renewal has not renewed it, and the reports stop when it expires. Says what to run; holds no
 * token and no data from the validations.
 */

import { escapeHtml } from '../../util/html-escape.js';
import { FONT, oneLine, page, type RenderedMail, table } from './html.js';

export interface TokenExpiryMailInput {
  /** Days left until `expiresAt` (fractional; ≤ 0 once expired). */
  daysLeft: number;
  expiresAt: Date;
  /** Name or ARN of the secret holding the token, for the commands in the mail. */
  secretId: string;
  /** The alert threshold, in days, for the wording. */
  alertDays: number;
  /** From DescribeSecret; null when never rotated or unknown. */
  lastRotatedAt: Date | null;
  nextRotationAt: Date | null;
  /** Days between automatic renewals, when rotation is configured. */
  rotationEveryDays: number | null;
  now: Date;
}

const DAY_MS = 86_400_000;

/** "5 days 3 hours", "17 hours", "expired 2 days ago". */
export function describeTimeLeft(daysLeft: number): string {
  const ms = Math.abs(daysLeft) * DAY_MS;
  const days = Math.floor(ms / DAY_MS);
  const hours = Math.floor((ms - days * DAY_MS) / 3_600_000);
  const parts = [
    ...(days > 0 ? [`${days} day${days === 1 ? '' : 's'}`] : []),
    ...(hours > 0 || days === 0 ? [`${hours} hour${hours === 1 ? '' : 's'}`] : []),
  ];
  return daysLeft > 0 ? parts.join(' ') : `expired ${parts.join(' ')} ago`;
}

const day = (d: Date | null) => (d ? `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC` : '—');

export function renderTokenExpiryMail(input: TokenExpiryMailInput): RenderedMail {
  const expired = input.daysLeft <= 0;
  const left = describeTimeLeft(input.daysLeft);
  const subject = oneLine(
    expired
      ? `[verifik-token] The Verifik token EXPIRED on ${day(input.expiresAt)}: reports are failing`
      : `[verifik-token] The Verifik token expires in ${left} (${day(input.expiresAt)}): automatic renewal failed`,
  );
  const every = input.rotationEveryDays ? `every ${input.rotationEveryDays} days` : 'on a schedule';
  const what = expired
    ? 'The Verifik token has expired. Every report fails with "Verifik rejected the token" until a new token is put in the secret, and an expired token cannot be renewed.'
    : `The token is renewed automatically ${every}, so a token with ${input.alertDays} days or less left means the recent renewals failed. When it expires, every report fails.`;
  const steps = expired
    ? [
        'Log in to Verifik for a new token.',
        `Put it in the secret: aws secretsmanager put-secret-value --secret-id ${input.secretId} --secret-string "$VERIFIK_TOKEN"`,
        'Check why the renewals failed: the token-rotation function\'s log group, and "aws secretsmanager describe-secret" (RotationEnabled, LastRotatedDate).',
      ]
    : [
        `Renew it now: aws secretsmanager rotate-secret --secret-id ${input.secretId}`,
        `Check the result: aws secretsmanager describe-secret --secret-id ${input.secretId} (LastRotatedDate), and the token-rotation function's log group for the reason of a failure.`,
        `If Verifik refuses the renewal, log in to Verifik for a new token and put it: aws secretsmanager put-secret-value --secret-id ${input.secretId} --secret-string "$VERIFIK_TOKEN"`,
      ];
  const rows: [string, string][] = [
    ['Expires', `${day(input.expiresAt)} (${left})`],
    ['Secret', input.secretId],
    ['Last renewed', day(input.lastRotatedAt)],
    ['Next renewal', day(input.nextRotationAt)],
    ['Checked', day(input.now)],
  ];
  const heading = expired ? 'The Verifik token has expired' : `The Verifik token expires in ${left}`;
  const footer =
    'You receive this because you own a Verifik report definition. This mail contains no token and no data from the validations.';
  const html = page(
    subject,
    `<h1 style="${FONT}font-size:20px;margin:0 0 8px 0;color:#ab091e;">${escapeHtml(heading)}</h1>
<p style="${FONT}font-size:14px;">${escapeHtml(what)}</p>
${table(['', ''], rows, 2)}
<p style="${FONT}font-size:14px;margin:12px 0 4px 0;font-weight:600;">What to do</p>
<ol style="${FONT}font-size:13px;">${steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>
<p style="${FONT}font-size:12px;color:#52606d;">${escapeHtml(footer)}</p>`,
  );
  const text = `${heading}\n\n${what}\n\n${rows.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\nWhat to do:\n${steps
    .map((s, i) => `${i + 1}. ${s}`)
    .join('\n')}\n\n${footer}\n`;
  return { subject, html, text };
}
