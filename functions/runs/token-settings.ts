/**
 * The token-rotation function's environment (the stack sets it): which secret, which Verifik,
 * how long a renewed token lasts, when to alert and whom. Validated once per cold start; every
 * bad variable is named in one ConfigError, like the report functions' settings/config.ts.
 */
import { z } from 'zod';
import { VERIFIK_API_URL } from '../contract.js';
import { ConfigError } from '../settings/config.js';
import { DEFAULT_RENEWAL_MONTHS } from '../verifik/token.js';
import { DEFAULT_TOKEN_ALERT_DAYS } from './token-watch.js';

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const wholeNumber = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const TokenSettings = z.object({
  VERIFIK_TOKEN_SECRET_ID: z
    .string({ error: 'missing (Secrets Manager id of the Verifik token)' })
    .trim()
    .min(1, 'empty (Secrets Manager id of the Verifik token)'),
  VERIFIK_BASE_URL: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : VERIFIK_API_URL))
    .pipe(z.url({ error: 'not a URL' })),
  /** Lifetime asked of each renewed token, in Verifik's unit (months). */
  TOKEN_RENEWAL_MONTHS: wholeNumber(DEFAULT_RENEWAL_MONTHS, 1, 12),
  /** Mail the owners when the token has this many days or fewer left. */
  TOKEN_ALERT_DAYS: wholeNumber(DEFAULT_TOKEN_ALERT_DAYS, 1, 29),
  TOKEN_ALERT_RECIPIENTS: z
    .string()
    .optional()
    .transform(list)
    .pipe(z.array(z.email({ error: 'each entry must be an email address' }))),
  MAIL_FROM: z.email({ error: 'missing or not an email address (the verified SES sender)' }),
  SES_CONFIGURATION_SET: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined)),
  ALLOWED_RECIPIENT_DOMAINS: z
    .string({ error: 'missing (comma-separated domains)' })
    .transform((v) => list(v).map((d) => d.toLowerCase()))
    .refine((l) => l.length > 0, 'no domain listed'),
});
export type TokenSettings = z.infer<typeof TokenSettings>;

export function loadTokenSettings(env: Record<string, string | undefined> = process.env): TokenSettings {
  const result = TokenSettings.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: issue.path.map(String).join('.') || '(environment)',
        message: issue.message,
      })),
    );
  }
  return result.data;
}
