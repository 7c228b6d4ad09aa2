/**
 * The daily watch over the Verifik token: how many days AWSCURRENT has left (from its JWT
 * `exp`), published as a metric the stack alarms on, and a mail to the owners when that is
 * `alertDays` or less. The token is renewed every few days (token-rotation.ts), so a token this
 * close to expiry means the renewals have been failing; the owners have those days to act
 * before every report fails.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { renderTokenExpiryMail } from '../delivery/mail/token-mail.js';
import { SecretNotSetError } from '../delivery/secrets.js';
import { daysUntil, readTokenExpiry } from '../verifik/token.js';
import { type MailSender, sendReportMessage } from './mail.js';
import { readCurrentToken } from './token-rotation.js';

/** CloudWatch metric of the days AWSCURRENT has left (infra's alarm reads the same name). */
export const TOKEN_DAYS_LEFT_METRIC = 'VerifikTokenDaysLeft';
/** Alert when this many days or fewer are left, unless configured otherwise. */
export const DEFAULT_TOKEN_ALERT_DAYS = 7;

export interface TokenWatchDeps {
  sm: SecretsManagerClient;
  secretId: string;
  /** Days left at or under which the owners are mailed. */
  alertDays: number;
  /** Who is mailed; empty: nobody (the metric alarm still fires). */
  owners: readonly string[];
  mail: MailSender;
  /** Publishes the days left (a Powertools metric in the Lambda). */
  recordDaysLeft(days: number): void;
  logger: Logger;
  now(): Date;
}

export type TokenWatchOutcome =
  | { step: 'watch'; status: 'not-set' | 'unknown-expiry' }
  | {
      step: 'watch';
      status: 'ok' | 'alerted' | 'expired';
      daysLeft: number;
      expiresAt: string;
      /** SES message id of the owners' mail, when one was sent. */
      messageId?: string;
    };

export async function watchToken(deps: TokenWatchDeps): Promise<TokenWatchOutcome> {
  const { logger } = deps;
  let token: string;
  try {
    token = await readCurrentToken(deps.sm, deps.secretId);
  } catch (err) {
    if (err instanceof SecretNotSetError) {
      // Before the first token is put the report runs fail and say so; nothing to watch yet.
      logger.warn('token watch: no token in the secret yet', { secretId: deps.secretId });
      return { step: 'watch', status: 'not-set' };
    }
    throw err;
  }
  const expiresAt = readTokenExpiry(token);
  if (!expiresAt) {
    logger.warn('token watch: the token is not a JWT with an exp; its expiry is unknown', {
      secretId: deps.secretId,
    });
    return { step: 'watch', status: 'unknown-expiry' };
  }
  const now = deps.now();
  const daysLeft = daysUntil(expiresAt, now);
  deps.recordDaysLeft(daysLeft);
  const base = { step: 'watch' as const, daysLeft, expiresAt: expiresAt.toISOString() };
  if (daysLeft > deps.alertDays) {
    logger.info('token watch: token valid', { daysLeft: round(daysLeft), expiresAt: base.expiresAt });
    return { ...base, status: 'ok' };
  }

  const status = daysLeft <= 0 ? 'expired' : 'alerted';
  logger.error('token watch: the Verifik token is close to expiry; renewal has not renewed it', {
    daysLeft: round(daysLeft),
    expiresAt: base.expiresAt,
  });
  if (deps.owners.length === 0) return { ...base, status };
  const meta = await deps.sm.send(new DescribeSecretCommand({ SecretId: deps.secretId })).catch((err) => {
    logger.warn('token watch: could not describe the secret; the mail goes without rotation dates', {
      error: (err as Error).name,
    });
    return null;
  });
  const mail = renderTokenExpiryMail({
    daysLeft,
    expiresAt,
    secretId: meta?.Name ?? deps.secretId,
    alertDays: deps.alertDays,
    lastRotatedAt: meta?.LastRotatedDate ?? null,
    nextRotationAt: meta?.NextRotationDate ?? null,
    rotationEveryDays: meta?.RotationRules?.AutomaticallyAfterDays ?? null,
    now,
  });
  // A mail that cannot be sent fails the invocation (the Errors alarm); the metric is out already.
  const messageId = await sendReportMessage(
    deps.mail,
    deps.owners,
    { mail, attachments: [] },
    `verifik-token-${now.toISOString().slice(0, 10)}`,
  );
  logger.info('token watch: owners mailed', { messageId, recipients: deps.owners.length });
  return { ...base, status, messageId };
}

const round = (n: number) => Math.round(n * 100) / 100;
