/**
 * The Verifik token's Lambda: Secrets Manager's rotation steps (`{ SecretId, ClientRequestToken,
 * Step }`, runs/token-rotation.ts) and the daily expiry watch (`{ "action": "watch" }` from
 * EventBridge Scheduler, runs/token-watch.ts). A failed step or watch throws, so Secrets
 * Manager's rotation status and the function's Errors alarm see it.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { METRICS_NAMESPACE } from '../contract.js';
import { secretsClient, sesClient } from '../delivery/aws-clients.js';
import { ReportsError } from '../errors/kinds.js';
import {
  parseRotationEvent,
  type RotationOutcome,
  rotateToken,
  type TokenRotationDeps,
} from '../runs/token-rotation.js';
import { loadTokenSettings, type TokenSettings } from '../runs/token-settings.js';
import {
  TOKEN_DAYS_LEFT_METRIC,
  type TokenWatchDeps,
  type TokenWatchOutcome,
  watchToken,
} from '../runs/token-watch.js';
import { createVerifikClient } from '../verifik/client.js';
import { refreshToken } from '../verifik/token.js';
import { lazyDeps } from './common-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

/** What EventBridge Scheduler sends for the daily watch (the stack's schedule input). */
export const WATCH_EVENT = { action: 'watch' } as const;

export type TokenOutcome = RotationOutcome | TokenWatchOutcome;

export interface TokenFunctionDeps {
  rotation: TokenRotationDeps;
  watch: TokenWatchDeps;
}

export class InvalidTokenEventError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidTokenEventError';
}

export function createTokenDeps(
  overrides: {
    env?: Record<string, string | undefined>;
    settings?: TokenSettings;
    sm?: SecretsManagerClient;
    ses?: SESv2Client;
    logger?: Logger;
    now?: () => Date;
    recordDaysLeft?: (days: number) => void;
    fetch?: typeof globalThis.fetch;
  } = {},
): TokenFunctionDeps {
  const settings = overrides.settings ?? loadTokenSettings(overrides.env ?? process.env);
  const sm = overrides.sm ?? secretsClient();
  const logger = overrides.logger ?? moduleLogger('token-rotation');
  const now = overrides.now ?? (() => new Date());
  const baseUrl = settings.VERIFIK_BASE_URL;
  const fetch = overrides.fetch ? { fetch: overrides.fetch } : {};
  return {
    rotation: {
      sm,
      logger,
      now,
      refresh: (token) =>
        refreshToken({ baseUrl, token, expiresInMonths: settings.TOKEN_RENEWAL_MONTHS, ...fetch }),
      verifik: (token) => createVerifikClient({ baseUrl, token, ...fetch }),
    },
    watch: {
      sm,
      secretId: settings.VERIFIK_TOKEN_SECRET_ID,
      alertDays: settings.TOKEN_ALERT_DAYS,
      owners: settings.TOKEN_ALERT_RECIPIENTS,
      mail: {
        ses: overrides.ses ?? sesClient(),
        from: settings.MAIL_FROM,
        allowedDomains: settings.ALLOWED_RECIPIENT_DOMAINS,
        configurationSet: settings.SES_CONFIGURATION_SET,
      },
      recordDaysLeft: overrides.recordDaysLeft ?? publishDaysLeft,
      logger,
      now,
    },
  };
}

export function createTokenHandler(getDeps: () => TokenFunctionDeps) {
  return async (event: unknown): Promise<TokenOutcome> => {
    if (typeof event === 'object' && event !== null && 'Step' in event) {
      return rotateToken(getDeps().rotation, parseRotationEvent(event));
    }
    if (typeof event === 'object' && event !== null && (event as { action?: unknown }).action === 'watch') {
      return watchToken(getDeps().watch);
    }
    throw new InvalidTokenEventError(
      'Invalid token-rotation event: expected a Secrets Manager rotation step { "SecretId", "ClientRequestToken", "Step" } ' +
        `or the watch ${JSON.stringify(WATCH_EVENT)}.`,
    );
  };
}

const logger = moduleLogger('token-rotation');

// The days left are a value, not an outcome count: published at once, in their own EMF record,
// so invocations without one (rotation steps) publish no empty metrics.
const gauges = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'token-rotation',
});
function publishDaysLeft(days: number): void {
  gauges.addMetric(TOKEN_DAYS_LEFT_METRIC, MetricUnit.NoUnit, Math.round(days * 100) / 100);
  gauges.publishStoredMetrics();
}

export const handler = lambdaEntry({
  serviceName: 'token-rotation',
  metricPrefix: 'TokenRotation',
  logger,
  run: createTokenHandler(lazyDeps(() => createTokenDeps({ logger }))),
  outcome: (r: TokenOutcome) => `${r.step}.${r.status}`,
});
